import type { Socket } from "node:net";
import pg from "pg";
import type { Logger } from "../../log/index.ts";
import { type ErrorContext, storeError } from "./errors.ts";

/**
 * Drops a client's socket at once, with a reset. Ending it politely, or even closing it, would
 * leave the statement that got no answer with the kernel, which retransmits it once a frozen path
 * comes back: the server would run it late (a claim would take jobs for a worker that gave up on
 * it). A reset discards what was not delivered.
 *
 * @example
 * ```ts
 * destroySocket(client);
 * ```
 */
export function destroySocket(client: pg.ClientBase): void {
  // pg keeps the socket on `connection.stream`; it has no public way to drop it without a reply.
  const stream = (client as unknown as { connection?: { stream?: Partial<Socket> } }).connection?.stream;
  if (stream === undefined) return;
  try {
    if (typeof stream.resetAndDestroy === "function") {
      stream.resetAndDestroy();
      return;
    }
  } catch {
    // Not a plain TCP socket (TLS, or already closed): close it as it allows.
  }
  stream.destroy?.();
}

/** True for the error of a statement that got no answer in time (pg's own, or tend's). */
export function noAnswer(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.message === "Query read timeout" ||
      ((err as { code?: unknown }).code === "TEND_E_STORE_TIMEOUT" &&
        (err as { details?: { timeout?: unknown } }).details?.timeout === "statement"))
  );
}

/** How much longer than the server's statement timeout the client waits for any answer at all. */
/**
 * Runs `fn` in a transaction on a pooled connection: commits when it resolves, rolls back when it
 * throws, and drops the connection (instead of asking it to roll back) when it stopped answering.
 *
 * @example
 * ```ts
 * const n = await inPooledTransaction(pool, async (client) => (await client.query("SELECT 1")).rowCount);
 * ```
 */
export async function inPooledTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    if (noAnswer(err)) broken = err;
    else
      await client.query("ROLLBACK").catch((rollbackErr: unknown) => {
        broken = rollbackErr;
      });
    throw err;
  } finally {
    client.release(broken instanceof Error ? broken : undefined);
  }
}

export const ANSWER_GRACE_MS = 1_000;

/** The SET statements every new connection of a store runs, as one simple query (one round trip). */
export function sessionSettings(context: ErrorContext): string {
  const { statementMs, lockMs, idleInTransactionMs } = context.timeouts;
  return [
    // tend's statements find rows by primary key; on a freshly loaded, never analyzed table the
    // default random_page_cost (4, tuned for spinning disks) makes the planner scan the whole
    // table instead. 1.1 is the usual setting for SSD-backed servers.
    "SET random_page_cost = 1.1",
    `SET statement_timeout = ${Math.round(statementMs)}`,
    `SET lock_timeout = ${Math.round(lockMs)}`,
    `SET idle_in_transaction_session_timeout = ${Math.round(idleInTransactionMs)}`,
  ].join("; ");
}

/** A connect error, marked with how long connecting took (the driver reports a timeout as a lost connection). */
function connectFailure(err: unknown, context: ErrorContext, startedAt: number): unknown {
  if (
    err instanceof Error &&
    err.message === "Connection terminated unexpectedly" &&
    Date.now() - startedAt >= context.timeouts.connectMs - 50
  ) {
    return storeError(new Error("timeout expired", { cause: err }), context);
  }
  return storeError(err, context);
}

/**
 * The store's `pg.Pool`: timeouts on connecting and on every statement, session settings (SET on
 * each new connection: a plain statement also passes through PgBouncer, unlike a startup
 * parameter), TCP keepalive, and errors about reaching the database turned into TendErrors that
 * say what was tried and what to do (see {@link storeError}); a statement that gets no answer
 * within its timeout is abandoned and its connection's socket dropped (see {@link destroySocket}),
 * never reused.
 *
 * @example
 * ```ts
 * const pool = new StorePool(url, { url: redactUrl(url), timeouts, poolSize: 10 }, log);
 * ```
 */
export class StorePool extends pg.Pool {
  readonly #context: ErrorContext;

  constructor(url: string, context: ErrorContext, log: Logger) {
    const settings = sessionSettings(context);
    super({
      connectionString: url,
      max: context.poolSize,
      keepAlive: true,
      // A dead peer of an idle connection is noticed within about a minute, not hours.
      keepAliveInitialDelayMillis: 10_000,
      application_name: "tend",
      connectionTimeoutMillis: context.timeouts.connectMs,
      // Client-side: a statement with no answer at all (a frozen network path, where the server's
      // own statement_timeout can never fire) is abandoned a moment after the server would have
      // cancelled it.
      query_timeout: context.timeouts.statementMs + ANSWER_GRACE_MS,
      // The pool awaits this hook before it hands the connection out, so the SETs never overlap
      // the first query. A failure is logged and the connection used as it is.
      onConnect: async (client: pg.ClientBase) => {
        await client
          .query(settings)
          .catch((err: Error) =>
            log.warn(
              { err: err.message },
              "could not apply the session settings (timeouts, random_page_cost)",
            ),
          );
      },
    });
    this.#context = context;
    // A connection released after a statement got no answer is dropped before pg-pool ends it.
    this.on("release", (err: Error | undefined, client: pg.PoolClient) => {
      if (noAnswer(err)) destroySocket(client);
    });
  }

  // pg's overloads cannot be restated here; the override keeps every calling form: callback forms
  // and submittables pass through untouched, promise forms get their errors mapped.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const first: unknown = args[0];
    const last: unknown = args[args.length - 1];
    const result: unknown = super.query.apply(this, args as never);
    if (typeof last === "function" || !(result instanceof Promise)) return result;
    const name =
      first !== null && typeof first === "object" && typeof (first as { name?: unknown }).name === "string"
        ? (first as { name: string }).name.replace(/^tend\.[^.]+\./, "")
        : undefined;
    return result.catch((err: unknown) => {
      throw storeError(err, this.#context, name);
    });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override connect(...args: any[]): any {
    const startedAt = Date.now();
    const callback: unknown = args[0];
    if (typeof callback === "function") {
      return super.connect((err: Error | undefined, client, done) => {
        (callback as (e: unknown, c: unknown, d: unknown) => void)(
          err === undefined || err === null ? err : connectFailure(err, this.#context, startedAt),
          client,
          done,
        );
      });
    }
    return super.connect().catch((err: unknown) => {
      throw connectFailure(err, this.#context, startedAt);
    });
  }
}
