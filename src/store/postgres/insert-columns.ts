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
    jobs.map((j) => j.traceContext ?? null),
    jobs.map((j) => j.concurrencyKey ?? null),
    jobs.map((j) =>
      j.concurrencyKey == null ? null : j.concurrencyLimit === undefined ? 1 : j.concurrencyLimit,
    ),
    // The rate key marks a rate-limited job; its window is counted per (queue, concurrency key).
    jobs.map((j) => (j.concurrencyKey == null || j.rateLimit == null ? null : j.concurrencyKey)),
    jobs.map((j) => (j.concurrencyKey == null ? null : (j.rateLimit ?? null))),
    jobs.map((j) => (j.concurrencyKey == null || j.rateLimit == null ? null : (j.ratePeriodMs ?? null))),
  ];
}
