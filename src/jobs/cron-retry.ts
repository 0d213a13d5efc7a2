/** The first wait before a failed cron catch-up is tried again. */
export const CATCH_UP_RETRY_FIRST_MS = 1_000;

/** The longest wait between two tries of a failed cron catch-up. */
export const CATCH_UP_RETRY_MAX_MS = 30_000;

/**
 * Pure: how long to wait before trying a cron catch-up again after its `failures`-th failure in a
 * row: 1 s, 2 s, 4 s, ... at most 30 s.
 *
 * @example
 * ```ts
 * catchUpRetryDelayMs(1); // 1000
 * catchUpRetryDelayMs(3); // 4000
 * catchUpRetryDelayMs(20); // 30000
 * ```
 */
export function catchUpRetryDelayMs(failures: number): number {
  const n = Math.max(1, Math.floor(failures));
  // 2 ** 15 s is past the cap already: no overflow for any count.
  return Math.min(CATCH_UP_RETRY_MAX_MS, CATCH_UP_RETRY_FIRST_MS * 2 ** Math.min(n - 1, 15));
}
