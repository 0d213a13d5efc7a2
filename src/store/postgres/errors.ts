import { TendError } from "../../errors/index.ts";
import type { PostgresTimeoutSettings } from "./settings.ts";

/** What an error message needs to say where and under which settings a call failed. */
export interface ErrorContext {
  /** The store's URL, password removed. */
  url: string;
  timeouts: PostgresTimeoutSettings;
  poolSize: number;
}

interface PgLikeError {
  code?: unknown;
  message?: unknown;
  hostname?: unknown;
  address?: unknown;
  port?: unknown;
  errors?: unknown;
}

/** The socket-level code of an error (Node puts it on the first of an AggregateError's errors). */
function codeOf(err: PgLikeError): string | undefined {
  if (typeof err.code === "string") return err.code;
  if (Array.isArray(err.errors)) {
    const first = err.errors[0] as PgLikeError | undefined;
    if (typeof first?.code === "string") return first.code;
  }
  return undefined;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The database name of a postgres:// URL. */
function databaseOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.slice(1)) || "(the user's name)";
  } catch {
    return "(unknown)";
  }
}

/** `host:port` of a postgres:// URL. */
function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || "localhost"}:${parsed.port || "5432"}`;
  } catch {
    return "(unknown)";
  }
}

/**
 * Pure: the TendError that says what a PostgreSQL failure means for the store, what was tried and
 * what to do, for the failures that are about reaching the database rather than a statement:
 * unreachable server (refused, unknown host, connection lost), missing database, refused login,
 * and every timeout. Any other error (a statement the database refused) is returned as it is.
 * `statement` names the statement that ran, when known.
 *
 * @example
 * ```ts
 * throw storeError(err, { url: redactUrl(url), timeouts, poolSize: 10 });
 * ```
 */
export function storeError(err: unknown, context: ErrorContext, statement?: string): unknown {
  if (err instanceof TendError || err === null || typeof err !== "object") return err;
  const e = err as PgLikeError;
  const code = codeOf(e);
  const message = typeof e.message === "string" ? e.message : String(err);
  const { url, timeouts } = context;
  const make = (
    tendCode:
      | "TEND_E_STORE_UNREACHABLE"
      | "TEND_E_STORE_TIMEOUT"
      | "TEND_E_DATABASE_NOT_FOUND"
      | "TEND_E_STORE_AUTH_FAILED",
    text: string,
    details: Record<string, unknown> = {},
  ) =>
    new TendError(tendCode, text, {
      cause: err,
      details: { url, ...(code === undefined ? {} : { cause: code }), ...details },
    });
  const what = statement === undefined ? "a statement" : `statement "${statement}"`;
  switch (code) {
    case "ECONNREFUSED":
      return make(
        "TEND_E_STORE_UNREACHABLE",
        `Cannot connect to PostgreSQL at ${url}: the connection to ${hostOf(url)} was refused. Check that the server is running and listening there, or fix the host and port in the URL.`,
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
      return make(
        "TEND_E_STORE_UNREACHABLE",
        `Cannot connect to PostgreSQL at ${url}: the host name "${typeof e.hostname === "string" ? e.hostname : hostOf(url)}" does not resolve. Fix the host in the URL, or check this machine's DNS.`,
      );
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ETIMEDOUT":
      return make(
        "TEND_E_STORE_UNREACHABLE",
        `Cannot reach PostgreSQL at ${url} (${code}): the network path to ${hostOf(url)} is down. Check the network, a firewall, or the host in the URL.`,
      );
    case "ECONNRESET":
    case "EPIPE":
    case "57P01":
    case "57P02":
    case "57P03":
      return make(
        "TEND_E_STORE_UNREACHABLE",
        `Lost the connection to PostgreSQL at ${url} (${message}); the server restarted, shut down or dropped it. The next call opens a new connection.`,
      );
    case "3D000":
      return make(
        "TEND_E_DATABASE_NOT_FOUND",
        `PostgreSQL at ${hostOf(url)} has no database "${databaseOf(url)}" (${url}): create it (createdb ${databaseOf(url)}) or fix the database name in the URL.`,
        { database: databaseOf(url) },
      );
    case "28P01":
    case "28000":
      return make(
        "TEND_E_STORE_AUTH_FAILED",
        `PostgreSQL at ${url} refused the login: ${message}. Check the user and password (in the URL, or PGUSER/PGPASSWORD) and the server's pg_hba.conf.`,
      );
    case "57014":
      if (!/statement timeout/.test(message)) return err;
      return make(
        "TEND_E_STORE_TIMEOUT",
        `PostgreSQL at ${url} cancelled ${what}: it ran longer than the statement timeout of ${seconds(timeouts.statementMs)}. Look for slow queries or locks on the server; raise timeouts.statement (URL statement_timeout) if such statements are expected.`,
        { timeout: "statement", ms: timeouts.statementMs },
      );
    case "55P03":
      return make(
        "TEND_E_STORE_TIMEOUT",
        `${what[0]!.toUpperCase()}${what.slice(1)} waited longer than the lock timeout of ${seconds(timeouts.lockMs)} for a lock another transaction held at ${url}. Find the long transaction (pg_stat_activity); raise timeouts.lock (URL lock_timeout) if such waits are expected.`,
        { timeout: "lock", ms: timeouts.lockMs },
      );
    case "25P03":
      return make(
        "TEND_E_STORE_TIMEOUT",
        `PostgreSQL at ${url} ended a connection whose transaction stayed idle longer than ${seconds(timeouts.idleInTransactionMs)} (timeouts.idleInTransaction, URL idle_in_transaction_session_timeout); the transaction was rolled back. Keep transactions short, or raise the timeout.`,
        { timeout: "idleInTransaction", ms: timeouts.idleInTransactionMs },
      );
  }
  if (message === "Query read timeout") {
    return make(
      "TEND_E_STORE_TIMEOUT",
      `PostgreSQL at ${url} did not answer ${what} in time: the server or the network path to it is not answering. The connection was discarded and the next call opens a new one. Check the server and the network; raise timeouts.statement (or timeouts.worker for the job worker's statements) if such statements are expected to take longer.`,
      { timeout: "statement" },
    );
  }
  if (
    message === "timeout exceeded when trying to connect" ||
    message.includes("due to connection timeout") ||
    message === "timeout expired"
  ) {
    return make(
      "TEND_E_STORE_TIMEOUT",
      `Could not get a connection to PostgreSQL at ${url} within ${seconds(timeouts.connectMs)} (timeouts.connect, URL connect_timeout): the server did not answer, or all ${context.poolSize} connections of the pool stayed busy. Check the server and the network path; raise timeouts.connect or poolSize if needed.`,
      { timeout: "connect", ms: timeouts.connectMs },
    );
  }
  if (message.startsWith("Connection terminated")) {
    return make(
      "TEND_E_STORE_UNREACHABLE",
      `Lost the connection to PostgreSQL at ${url} (${message}). The next call opens a new connection.`,
    );
  }
  return err;
}
