import { checkFunction, checkNumber, checkObject } from "../errors/index.ts";

/** How long to wait before the next attempt of a failed job. */
export interface BackoffPolicy {
  /** Delay after the first failure, in ms (default 1,000). */
  baseMs: number;
  /** Growth per attempt (default 2). */
  factor: number;
  /** Upper bound of the delay before jitter, in ms (default 1 hour). */
  maxMs: number;
  /** Fraction of the delay randomised, 0..1 (default 0.25: the delay varies by ±25%). */
  jitter: number;
}

const CODE = "TEND_E_INVALID_JOB_OPTIONS";
const POLICY_KEYS = ["baseMs", "factor", "maxMs", "jitter"] as const;

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  baseMs: 1_000,
  factor: 2,
  maxMs: 3_600_000,
  jitter: 0.25,
});

/**
 * Pure: the delay in ms before retrying after failed attempt number `attempt` (1-based):
 * `min(maxMs, baseMs * factor^(attempt-1))`, spread by ±jitter using `random()` in [0, 1).
 * Jitter keeps many jobs that failed together from retrying together. `attempt` must be a finite
 * number (a fraction is rounded down; below 1 counts as 1), `policy` a {@link BackoffPolicy} of
 * finite numbers and `random` a function; anything else throws TEND_E_INVALID_JOB_OPTIONS.
 *
 * @example
 * ```ts
 * retryDelay(1, DEFAULT_BACKOFF, () => 0.5); // 1000
 * retryDelay(4, DEFAULT_BACKOFF, () => 0.5); // 8000
 * ```
 */
export function retryDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  checkNumber(CODE, "retryDelay attempt", attempt);
  checkObject(CODE, "retryDelay policy", policy, "a backoff policy { baseMs, factor, maxMs, jitter }");
  for (const key of POLICY_KEYS) checkNumber(CODE, `retryDelay policy.${key}`, policy[key]);
  checkFunction(CODE, "retryDelay random", random, "a function returning a number in [0, 1)");
  const n = Math.max(1, Math.floor(attempt));
  const raw = Math.min(policy.maxMs, policy.baseMs * policy.factor ** (n - 1));
  const spread = raw * Math.min(1, Math.max(0, policy.jitter));
  const delay = raw - spread + 2 * spread * random();
  return Math.max(0, Math.round(delay));
}

/** The longest delay a job may be given (an enqueue's `delay`, a backoff's result): a hundred years. */
export const MAX_DELAY_MS = 100 * 365 * 24 * 3_600_000;

/**
 * Pure: why `ms`, returned by a backoff function, cannot be used as a retry delay, or null when it
 * can (a finite number of ms from 0 to {@link MAX_DELAY_MS}).
 *
 * @example
 * ```ts
 * badDelay(5_000); // null
 * badDelay(1e16); // "1e+16 is more than a hundred years"
 * ```
 */
export function badDelay(ms: unknown): string | null {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return `${String(ms)} is not a finite number of ms`;
  if (ms < 0) return `${ms} is negative`;
  if (ms > MAX_DELAY_MS) return `${ms} is more than a hundred years`;
  return null;
}

/**
 * Pure: what happens after attempt `attempt` of `maxAttempts` failed: the retry time, or null to
 * discard. `retryable: false` (a bad payload) discards at once.
 */
export function nextRetryAt(
  attempt: number,
  maxAttempts: number,
  now: number,
  delayFor: (attempt: number) => number,
  retryable = true,
): Date | null {
  if (!retryable || attempt >= maxAttempts) return null;
  return new Date(now + delayFor(attempt));
}
