/** How long a failing key waits before its next try. */
export interface KeyBackoff {
  /** Delay after the first failure, in ms. */
  baseMs: number;
  /** Upper bound of the delay, in ms (before jitter). */
  maxMs: number;
  /** Growth per consecutive failure. */
  factor: number;
  /** Fraction of the delay randomised, 0..1. */
  jitter: number;
}

/** Default key backoff: 1 s, doubling, capped at 5 minutes, ±20 % jitter. */
export const DEFAULT_KEY_BACKOFF: Readonly<KeyBackoff> = Object.freeze({
  baseMs: 1_000,
  maxMs: 300_000,
  factor: 2,
  jitter: 0.2,
});

/**
 * Pure: the delay in ms before a key that failed `failures` times in a row (1-based) is tried
 * again: `min(maxMs, baseMs * factor^(failures-1))`, spread by ±jitter with `random()` in [0, 1).
 * Only that key waits; the converger goes on with the others.
 *
 * @example
 * ```ts
 * keyBackoffMs(1, DEFAULT_KEY_BACKOFF, () => 0.5); // 1000
 * keyBackoffMs(3, DEFAULT_KEY_BACKOFF, () => 0.5); // 4000
 * keyBackoffMs(50, DEFAULT_KEY_BACKOFF, () => 0.5); // 300000 (capped)
 * ```
 */
export function keyBackoffMs(
  failures: number,
  policy: Readonly<KeyBackoff> = DEFAULT_KEY_BACKOFF,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(failures));
  const raw = Math.min(policy.maxMs, policy.baseMs * policy.factor ** Math.min(n - 1, 64));
  const spread = raw * Math.min(1, Math.max(0, policy.jitter));
  return Math.max(0, Math.round(raw - spread + 2 * spread * random()));
}
