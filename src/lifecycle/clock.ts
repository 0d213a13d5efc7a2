/**
 * Milliseconds on a monotonic clock, for durations (`durationMs` in log lines, `every()` spacing).
 * `process.hrtime.bigint()` rather than `performance.now()`: the `performance` global loads
 * node:perf_hooks on first touch, several milliseconds of a Manager's start-up.
 *
 * @example
 * ```ts
 * const started = monotonicMs();
 * await work();
 * log.info({ durationMs: Math.round(monotonicMs() - started) }, "done");
 * ```
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
