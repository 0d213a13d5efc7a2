import { DEFAULT_MAX_LOST, type NewJob } from "../job-model.ts";

/** The unnest() column arrays of a batch of jobs (one array per column, in input order). */
export function columns(jobs: readonly NewJob[]): unknown[] {
  return [
    jobs.map((j) => j.kind),
    jobs.map((j) => j.queue),
    jobs.map((j) => j.payload),
    jobs.map((j) => j.priority),
    jobs.map((j) => j.runAt),
    jobs.map((j) => j.maxAttempts),
    jobs.map((j) => j.uniqueKey),
    jobs.map((j) => j.batchId),
    jobs.map((j) => j.batchIndex),
    jobs.map((j) => j.maxLost ?? DEFAULT_MAX_LOST),
    ...transpose(jobs.map(limitColumns), LIMIT_COLUMNS.length),
  ];
}

/**
 * The columns a job's trace context, concurrency key and limits are stored in, in the order of
 * {@link limitColumns}; every insert of a job writes them (the bulk insert and a cron tick).
 */
export const LIMIT_COLUMNS = [
  "trace_context",
  "concurrency_key",
  "concurrency_limit",
  "rate_key",
  "rate_limit",
  "rate_period_ms",
] as const;

/**
 * Pure: one job's values of {@link LIMIT_COLUMNS}. A key without a limit gets limit 1; the rate
 * key marks a rate-limited job (its window is counted per queue and concurrency key).
 *
 * @example
 * ```ts
 * limitColumns(job); // [null, "tenant-1", 2, null, null, null]
 * ```
 */
export function limitColumns(j: NewJob): unknown[] {
  const key = j.concurrencyKey ?? null;
  const rated = key !== null && j.rateLimit != null;
  return [
    j.traceContext ?? null,
    key,
    key === null ? null : j.concurrencyLimit === undefined ? 1 : j.concurrencyLimit,
    rated ? key : null,
    key === null ? null : (j.rateLimit ?? null),
    rated ? (j.ratePeriodMs ?? null) : null,
  ];
}

/** Pure: `rows` of `width` values each as `width` columns. */
function transpose(rows: readonly unknown[][], width: number): unknown[][] {
  return Array.from({ length: width }, (_, c) => rows.map((r) => r[c]));
}
