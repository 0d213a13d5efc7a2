import { checkInteger, checkObject, TendError } from "../errors/index.ts";
import type { ClaimedJob, QueueLimitsChange } from "./job-model.ts";

/**
 * Queue limits, as the store checks a change and as the claim applies them (pure functions; the
 * drivers' queues.ts store them, their claims read them, see claimJobs).
 */

const CODE = "TEND_E_INVALID_QUEUE_LIMITS";
/** The longest rate window: 24 hours. */
const MAX_PERIOD_MS = 24 * 3600 * 1000;

/** A checked change: which fields are set, and to what (null clears). */
export interface CheckedQueueLimits {
  setConcurrency: boolean;
  concurrency: number | null;
  setRate: boolean;
  rateLimit: number | null;
  ratePeriodMs: number | null;
}

/**
 * Pure: checks a change of a queue's limits (TEND_E_INVALID_QUEUE_LIMITS naming the bad value).
 *
 * @example
 * ```ts
 * checkQueueLimits({ concurrency: 5 }); // { setConcurrency: true, concurrency: 5, setRate: false, ... }
 * ```
 */
export function checkQueueLimits(change: QueueLimitsChange): CheckedQueueLimits {
  checkObject(CODE, "queue limits", change);
  for (const key of Object.keys(change))
    if (key !== "concurrency" && key !== "rate")
      throw new TendError(
        CODE,
        `queue limits: unknown field ${JSON.stringify(key)}; expected concurrency or rate`,
        {
          details: { field: key },
        },
      );
  const out: CheckedQueueLimits = {
    setConcurrency: change.concurrency !== undefined,
    concurrency: null,
    setRate: change.rate !== undefined,
    rateLimit: null,
    ratePeriodMs: null,
  };
  if (change.concurrency != null)
    out.concurrency = checkInteger(CODE, "queue limits concurrency", change.concurrency, 1, 10_000);
  if (change.rate != null) {
    checkObject(CODE, "queue limits rate", change.rate);
    out.rateLimit = checkInteger(CODE, "queue limits rate.limit", change.rate.limit, 1, 1_000_000);
    out.ratePeriodMs = checkInteger(
      CODE,
      "queue limits rate.periodMs",
      change.rate.periodMs,
      1,
      MAX_PERIOD_MS,
    );
  }
  return out;
}

/** What a claim reads of a queue with limits, in its transaction. */
export interface QueueCap {
  concurrencyLimit: number | null;
  /** The queue's jobs running now (claimed ahead included). */
  running: number;
  rateLimit: number | null;
  ratePeriodMs: number | null;
  /** Starts already counted in the current window. */
  used: number;
}

/**
 * Pure: how many jobs a claim of a queue with limits may take (`limit`) and start (`start`): no
 * more than the concurrency limit minus the queue's running jobs; with a rate limit, only jobs
 * that start now (none claimed ahead) and no more than the window has left.
 *
 * @example
 * ```ts
 * queueAllowance(50, 10, { concurrencyLimit: 4, running: 1, rateLimit: null, ratePeriodMs: null, used: 0 }); // { limit: 3, start: 3 }
 * ```
 */
export function queueAllowance(
  limit: number,
  start: number,
  cap: QueueCap,
): { limit: number; start: number } {
  let n = limit;
  if (cap.concurrencyLimit !== null) n = Math.min(n, cap.concurrencyLimit - cap.running);
  if (cap.rateLimit !== null) n = Math.min(n, start, cap.rateLimit - cap.used);
  n = Math.max(0, n);
  return { limit: n, start: Math.min(start, n) };
}

/**
 * Pure: jobs claimed from a queue with limits, marked so (their worker claims again as each ends),
 * and with the queue's rate window where it is shorter than their own (their worker polls as the
 * next window opens).
 *
 * @example
 * ```ts
 * const jobs = markCapped(claimed, 1_000);
 * ```
 */
export function markCapped(jobs: readonly ClaimedJob[], ratePeriodMs: number | null): ClaimedJob[] {
  return jobs.map((job) => {
    const own = job.ratePeriodMs ?? null;
    const period = ratePeriodMs === null ? own : own === null ? ratePeriodMs : Math.min(own, ratePeriodMs);
    return { ...job, capped: true, ...(period === null ? {} : { ratePeriodMs: period }) };
  });
}
