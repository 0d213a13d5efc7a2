import type pg from "pg";
import { storeClosed } from "../closed.ts";
import { quoteIdent } from "./identifiers.ts";

/** What the PostgreSQL job statements need: the pool, table names and named (prepared) queries. */
export interface PgContext {
  pool: pg.Pool;
  /** The validated schema name (unquoted). */
  schema: string;
  /** Quoted table names. */
  jobs: string;
  cron: string;
  cronEntries: string;
  /** Per-queue settings (pause). */
  queues: string;
  /** Rate-limit windows of the claim. */
  rateWindows: string;
  /** Job dependencies: (job_id, parent_id). */
  jobDeps: string;
  /** Physical channel names used by statements that notify. */
  channels: { jobs: string; cancel: string; batch: string; queues: string };
  /**
   * Runs a statement as a named prepared statement on a pooled connection (parsed and planned
   * once per connection).
   */
  run<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>>;
  /** The client-side timeout of the worker's own statements (ms). */
  workerTimeoutMs: number;
}

/**
 * The job worker's own statements: each gets the worker's shorter client-side timeout, so that a
 * frozen network path stalls a worker only briefly (its claim loop and lease renewals retry).
 */
const WORKER_STATEMENTS: ReadonlySet<string> = new Set([
  "claim",
  "complete",
  "fail",
  "heartbeat",
  "release",
  "mark_cancelled",
  "mark_started",
  "mark_started_held",
  "rescue_expired",
  "rescue_worker",
  "claim_probe_capped",
  "progress",
  "snooze",
]);

/** A worker statement by name; the plain claim's are named `claim.<scan limit>` (see leases.ts). */
function isWorkerStatement(name: string): boolean {
  return WORKER_STATEMENTS.has(name) || name.startsWith("claim.");
}

/**
 * Builds the statement context of a store. `workerTimeoutMs` bounds the worker's own statements
 * (see {@link WORKER_STATEMENTS}); the others have the pool's statement timeout.
 *
 * @example
 * ```ts
 * const ctx = createContext(pool, "tend", () => closed, 10_000);
 * ```
 */
export function createContext(
  pool: pg.Pool,
  schema: string,
  isClosed: () => boolean,
  workerTimeoutMs: number,
): PgContext {
  const s = quoteIdent(schema);
  return {
    pool,
    schema,
    jobs: `${s}.jobs`,
    cron: `${s}.cron`,
    cronEntries: `${s}.cron_entries`,
    queues: `${s}.queues`,
    rateWindows: `${s}.rate_windows`,
    jobDeps: `${s}.job_deps`,
    channels: {
      jobs: `${schema}.jobs`,
      cancel: `${schema}.cancel`,
      batch: `${schema}.batch`,
      queues: `${schema}.queues`,
    },
    workerTimeoutMs,
    run: async <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) => {
      if (isClosed()) throw storeClosed("postgres");
      return pool.query<R>({
        name: `tend.${schema}.${name}`,
        text,
        values,
        ...(isWorkerStatement(name) ? { query_timeout: workerTimeoutMs } : {}),
      });
    },
  };
}

/** SQL list of the pending states, exactly as in the claim index predicate. */
export const PENDING = "('available', 'scheduled', 'retryable')";
/** SQL list of the states in which a unique key blocks another insert (the unique index predicate). */
export const BLOCKING = "('scheduled', 'available', 'running', 'retryable')";
/** SQL list of the final states (the finished index predicate). */
export const FINAL = "('completed', 'discarded', 'cancelled')";
/** SQL expression for the current server time as an ISO-8601 UTC string (as JobError.at). */
export const NOW_ISO = `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Appended to statements whose rows may finish a batch job: one notification per batch. */
export function batchNotify(param: string): string {
  return `, notified AS (
    SELECT pg_notify(${param}, b.batch_id) FROM (SELECT DISTINCT batch_id FROM u WHERE batch_id IS NOT NULL AND state IN ${FINAL}) b
  )`;
}
