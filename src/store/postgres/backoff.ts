/** Settings of {@link reconnectDelay}. */
export interface ReconnectBackoff {
  /** Delay before the first retry. */
  baseMs: number;
  /** Upper bound of any delay. */
  capMs: number;
}

/** Defaults for the LISTEN connection: 100 ms, doubling, at most 10 s. */
export const LISTEN_BACKOFF: ReconnectBackoff = { baseMs: 100, capMs: 10_000 };

/**
 * Pure: the delay before reconnect attempt `attempt` (1-based): exponential from `baseMs`, capped
 * at `capMs`, with "equal jitter" (half fixed, half random) so that many processes that lost the
 * server together do not reconnect in lockstep. `random` returns a number in [0, 1).
 *
 * @example
 * ```ts
 * reconnectDelay(1, LISTEN_BACKOFF, () => 0.5); // 75
 * reconnectDelay(30, LISTEN_BACKOFF, Math.random); // between 5000 and 10000
 * ```
 */
export function reconnectDelay(attempt: number, backoff: ReconnectBackoff, random: () => number): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** exponent);
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}
