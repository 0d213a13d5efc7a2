import { checkObject, optionKeys, rejectUnknownKeys } from "../../errors/index.ts";
import { durationFromText, MAX_TIMER_MS, parseDuration } from "../../lifecycle/index.ts";
import type { PostgresTimeouts } from "../store.ts";

/** The PostgreSQL timeouts of a store (see {@link PostgresTimeouts} for each one's meaning). */
export interface PostgresTimeoutSettings {
  connectMs: number;
  statementMs: number;
  workerMs: number;
  lockMs: number;
  idleInTransactionMs: number;
}

/** The defaults of {@link PostgresTimeouts}, in ms. */
export const DEFAULT_TIMEOUTS: PostgresTimeoutSettings = {
  connectMs: 5_000,
  statementMs: 30_000,
  workerMs: 10_000,
  lockMs: 10_000,
  idleInTransactionMs: 60_000,
};

const TIMEOUT_KEYS = optionKeys<PostgresTimeouts>({
  connect: true,
  statement: true,
  worker: true,
  lock: true,
  idleInTransaction: true,
});

/** URL query parameter of each timeout; `connect_timeout` is in seconds (libpq), the others ms or a duration. */
const URL_PARAMS: ReadonlyArray<[string, keyof PostgresTimeouts]> = [
  ["connect_timeout", "connect"],
  ["statement_timeout", "statement"],
  ["worker_statement_timeout", "worker"],
  ["lock_timeout", "lock"],
  ["idle_in_transaction_session_timeout", "idleInTransaction"],
];

const FIELD: Record<keyof PostgresTimeouts, keyof PostgresTimeoutSettings> = {
  connect: "connectMs",
  statement: "statementMs",
  worker: "workerMs",
  lock: "lockMs",
  idleInTransaction: "idleInTransactionMs",
};

const LIMITS = { code: "TEND_E_INVALID_POSTGRES_OPTION", positive: true, max: MAX_TIMER_MS } as const;

/**
 * Pure: reads a store's PostgreSQL timeouts from its URL query and its `timeouts` option (the
 * option wins), and returns the URL without those parameters: pg would otherwise send them as
 * startup parameters, which connection poolers such as PgBouncer refuse (tend sets them with SET
 * on each new connection instead). Throws TEND_E_INVALID_POSTGRES_OPTION naming a bad value.
 *
 * @example
 * ```ts
 * postgresSettings("postgres://db/app?statement_timeout=5s&sslmode=require", { connect: "2s" });
 * // { url: "postgres://db/app?sslmode=require", timeouts: { connectMs: 2000, statementMs: 5000, ... } }
 * ```
 */
export function postgresSettings(
  url: string,
  timeouts: PostgresTimeouts | undefined,
): { url: string; timeouts: PostgresTimeoutSettings } {
  const settings = { ...DEFAULT_TIMEOUTS };
  let rest = url;
  const q = url.indexOf("?");
  if (q !== -1) {
    const params = new URLSearchParams(url.slice(q + 1));
    for (const [param, key] of URL_PARAMS) {
      const text = params.get(param);
      if (text === null) continue;
      params.delete(param);
      const value =
        param === "connect_timeout" && /^\d+$/.test(text.trim()) ? `${text.trim()}s` : durationFromText(text);
      settings[FIELD[key]] = parseDuration(value, `PostgreSQL URL parameter ${param}`, LIMITS);
    }
    const query = params.toString();
    rest = query === "" ? url.slice(0, q) : `${url.slice(0, q)}?${query}`;
  }
  if (timeouts !== undefined) {
    checkObject("TEND_E_INVALID_POSTGRES_OPTION", "timeouts", timeouts);
    rejectUnknownKeys("store option timeouts", timeouts, TIMEOUT_KEYS);
    for (const key of Object.keys(FIELD) as Array<keyof PostgresTimeouts>) {
      const value = timeouts[key];
      if (value !== undefined) settings[FIELD[key]] = parseDuration(value, `timeouts.${key}`, LIMITS);
    }
  }
  return { url: rest, timeouts: settings };
}
