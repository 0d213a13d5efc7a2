import type { ClaimedJob, JobError, JobRecord, JobState, Json, RescuedJob } from "../job-model.ts";

/**
 * Row shapes returned by `pg` for tend's tables and their conversion to the job model. `pg`
 * already returns int8 as strings, jsonb parsed and timestamptz as Date; these functions only
 * rename columns and narrow types.
 */

/** A `jobs` row as `pg` returns it. */
export interface JobRow {
  id: string;
  kind: string;
  queue: string;
  payload: Json;
  priority: number;
  state: JobState;
  run_at: Date;
  attempt: number;
  max_attempts: number;
  unique_key: string | null;
  errors: JobError[];
  result: Json | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  worker_id: string | null;
  lease_token: string | null;
  lease_expires_at: Date | null;
  cancel_requested: boolean;
  batch_id: string | null;
  batch_index: number | null;
  lost: number;
  max_lost: number;
  progress: Json | null;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  rate_limit: number | null;
  rate_period_ms: number | null;
}

/** Columns selected for a full row, in a stable order (prefixable with a table alias). */
export const JOB_COLUMNS =
  "id, kind, queue, payload, priority, state, run_at, attempt, max_attempts, unique_key, errors, result, " +
  "created_at, started_at, finished_at, worker_id, lease_token, lease_expires_at, cancel_requested, batch_id, batch_index, " +
  "lost, max_lost, progress, concurrency_key, concurrency_limit, rate_limit, rate_period_ms";

/**
 * A timestamptz as `pg` returns it: a Date, or the number ±Infinity for PostgreSQL's ±infinity,
 * which no Date holds; that reads as an invalid Date, as on SQLite (see {@link JobRecord}).
 */
function time(value: unknown): Date {
  return value instanceof Date ? value : new Date(Number.NaN);
}

function timeOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : time(value);
}

/**
 * Converts a `jobs` row to a JobRecord.
 *
 * @example
 * ```ts
 * const { rows } = await pool.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM "tend".jobs WHERE id = $1`, [id]);
 * const job = rows[0] === undefined ? null : toJobRecord(rows[0]);
 * ```
 */
export function toJobRecord(row: JobRow): JobRecord {
  return {
    id: String(row.id),
    kind: row.kind,
    queue: row.queue,
    payload: row.payload,
    priority: row.priority,
    state: row.state,
    runAt: time(row.run_at),
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    lost: row.lost,
    maxLost: row.max_lost,
    uniqueKey: row.unique_key,
    errors: Array.isArray(row.errors) ? row.errors : [],
    result: row.result,
    createdAt: time(row.created_at),
    startedAt: timeOrNull(row.started_at),
    finishedAt: timeOrNull(row.finished_at),
    workerId: row.worker_id,
    leaseToken: row.lease_token,
    leaseExpiresAt: timeOrNull(row.lease_expires_at),
    cancelRequested: row.cancel_requested,
    batchId: row.batch_id,
    batchIndex: row.batch_index,
    progress: row.progress ?? null,
    concurrencyKey: row.concurrency_key ?? null,
    concurrencyLimit: row.concurrency_limit ?? null,
    rateLimit:
      row.rate_limit == null || row.rate_period_ms == null
        ? null
        : { limit: row.rate_limit, periodMs: row.rate_period_ms },
  };
}

/** Columns returned by a claim, in claim order. */
export interface ClaimRow {
  id: string;
  kind: string;
  queue: string;
  payload: Json;
  attempt: number;
  max_attempts: number;
  lease_token: string;
  started: boolean;
  /** The job's run time in milliseconds since the epoch (see {@link RUN_AT_MS}). */
  run_at_ms: number;
  trace_context: string | null;
  /** Returned by the limited claim only. */
  concurrency_key?: string | null;
  /** Returned by the limited claim only. */
  rate_period_ms?: number | null;
  /** A rescue returned the job claimed ahead and never started before (null on a claim's null row). */
  suspect?: boolean | null;
}

/**
 * The claim statements' run time column: whole milliseconds since the epoch as a double, which the
 * driver reads with `parseFloat`, where a timestamptz is printed as text by the server and parsed
 * back into a Date field by field (about 4% of a worker's CPU on short jobs). The microseconds are
 * cut off in exact (numeric) arithmetic, as the Date parsed from the text would have them: a
 * double's seconds times 1,000 can land just below a whole millisecond.
 */
export const RUN_AT_MS = "floor(extract(epoch FROM run_at) * 1000)::float8 AS run_at_ms";

/**
 * Converts claimed rows (already in claim order) to ClaimedJobs.
 *
 * @example
 * ```ts
 * const jobs = toClaimedJobs(result.rows);
 * ```
 */
export function toClaimedJobs(rows: readonly ClaimRow[]): ClaimedJob[] {
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    queue: row.queue,
    payload: row.payload,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    leaseToken: row.lease_token,
    started: row.started,
    runAt: new Date(row.run_at_ms),
    traceContext: row.trace_context,
    ...(row.concurrency_key == null ? {} : { concurrencyKey: row.concurrency_key }),
    ...(row.rate_period_ms == null ? {} : { ratePeriodMs: row.rate_period_ms }),
    ...(row.suspect === true ? { suspect: true } : {}),
  }));
}

/** Columns returned by a rescue. */
export interface RescueRow {
  id: string;
  kind: string;
  queue: string;
  attempt: number;
  state: "retryable" | "discarded";
  poisoned: boolean;
}

/**
 * Converts rescued rows to RescuedJobs ordered by id.
 *
 * @example
 * ```ts
 * const rescued = toRescuedJobs(result.rows);
 * ```
 */
export function toRescuedJobs(rows: readonly RescueRow[]): RescuedJob[] {
  return [...rows]
    .sort((a, b) => compareIds(String(a.id), String(b.id)))
    .map((row) => ({
      id: String(row.id),
      kind: row.kind,
      queue: row.queue,
      attempt: row.attempt,
      state: row.state,
      poisoned: row.poisoned === true,
    }));
}

/**
 * Compares two decimal id strings numerically (ids are int8, beyond Number's exact range).
 *
 * @example
 * ```ts
 * compareIds("9", "10"); // < 0
 * ```
 */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
