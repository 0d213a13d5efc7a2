import type { SQLInputValue } from "node:sqlite";
import { DEFAULT_MAX_LOST, type NewJob } from "../job-model.ts";

/**
 * Appends the values of one job's row to `into`, in the order of the insert's columns, the row
 * starting in `state`: for the inserts of jobs with parents. The plain insert (insert.ts) writes
 * the same values inline, since a call per row measured about 2 µs per job slower there; keep the
 * two in step.
 *
 * @example
 * ```ts
 * const args: SQLInputValue[] = [];
 * pushRowValues(args, job, "available", Date.now());
 * db.prepare(insertSql('"tend_jobs"', 1)).run(...args);
 * ```
 */
export function pushRowValues(into: SQLInputValue[], job: NewJob, state: string, now: number): void {
  into.push(
    job.kind,
    job.queue,
    job.payload,
    job.priority,
    state,
    job.runAt.getTime(),
    job.maxAttempts,
    job.uniqueKey,
    now,
    job.batchId,
    job.batchIndex,
    job.maxLost ?? DEFAULT_MAX_LOST,
    job.traceContext ?? null,
    job.concurrencyKey ?? null,
    job.concurrencyKey == null ? null : job.concurrencyLimit === undefined ? 1 : job.concurrencyLimit,
    // The rate key marks a rate-limited job; its window is counted per (queue, concurrency key).
    job.concurrencyKey == null || job.rateLimit == null ? null : job.concurrencyKey,
    job.concurrencyKey == null ? null : (job.rateLimit ?? null),
    job.concurrencyKey == null || job.rateLimit == null ? null : (job.ratePeriodMs ?? null),
  );
}
