import { checkInteger, checkObject, optionKeys, rejectUnknownKeys } from "../errors/index.ts";
import { type Duration, parseDuration } from "../lifecycle/index.ts";

/** A rate limit: at most `limit` job starts per `per` window, across every process. */
export interface RateLimitOptions {
  /** Starts allowed per window (1-1,000,000). */
  limit: number;
  /** The window: ms or a duration like "1s", "1m" (1 ms to 24 h). */
  per: Duration;
}

/** A validated rate limit. */
export interface RateLimit {
  limit: number;
  periodMs: number;
}

const RATE_LIMIT_KEYS = optionKeys<RateLimitOptions>({ limit: true, per: true });

/**
 * Validates a rate limit option (TEND_E_INVALID_JOB_OPTIONS, or TEND_E_UNKNOWN_OPTION for a
 * misspelt key).
 *
 * @example
 * ```ts
 * checkRateLimit({ limit: 10, per: "1s" }, "rateLimit"); // { limit: 10, periodMs: 1000 }
 * ```
 */
export function checkRateLimit(
  value: unknown,
  what: string,
  code: "TEND_E_INVALID_JOB_OPTIONS" | "TEND_E_INVALID_QUEUE_LIMITS" = "TEND_E_INVALID_JOB_OPTIONS",
): RateLimit {
  checkObject(code, what, value);
  rejectUnknownKeys(what, value as object, RATE_LIMIT_KEYS);
  const options = value as RateLimitOptions;
  const limit = checkInteger(code, `${what}.limit`, options.limit, 1, 1_000_000);
  const periodMs = parseDuration(options.per, `${what}.per`, { code, positive: true, max: 24 * 3600 * 1000 });
  return { limit, periodMs };
}
