import { type Duration, parseDuration } from "../lifecycle/index.ts";

/** Longest snooze: ten years (a longer one is a mistake, or a job that should be cancelled). */
export const MAX_SNOOZE_MS = 10 * 365 * 24 * 3600_000;

/**
 * What `ctx.snooze(duration)` returns: returned (or thrown) by a handler, it puts the job back to
 * `scheduled` to run again after `ms`, without spending the attempt.
 *
 * @example
 * ```ts
 * app.job("export.poll", async (ctx) => ((await isReady(ctx.payload.id)) ? fetchExport(ctx.payload.id) : ctx.snooze("30s")));
 * ```
 */
export class JobSnooze {
  /** How long to wait before the job may run again, in ms. */
  readonly ms: number;

  /**
   * @param duration How long to wait (ms, or a string like "30s"), 0 up to ten years; anything else
   *   (NaN, negative, too long) throws TEND_E_INVALID_SNOOZE here, so that a handler making it from
   *   bad data fails that attempt with the reason, instead of a write the store would refuse.
   */
  constructor(duration: Duration) {
    this.ms = parseDuration(duration, "snooze", { code: "TEND_E_INVALID_SNOOZE", max: MAX_SNOOZE_MS });
  }
}

/**
 * Validates a snooze duration (ms or a string like "30s"; 0 up to ten years) and makes the value a
 * handler returns; throws TEND_E_INVALID_SNOOZE otherwise.
 *
 * @example
 * ```ts
 * snoozeFor("30s").ms; // 30_000
 * ```
 */
export function snoozeFor(duration: Duration): JobSnooze {
  return new JobSnooze(duration);
}
