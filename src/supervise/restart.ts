/** Settings for replacing dead workers: exponential backoff with jitter, and the restart intensity. */
export interface RestartSettings {
  /** Delay before the second consecutive restart; doubles with each further one. Default 100 ms. */
  backoffBaseMs: number;
  /** Upper bound of the delay. Default 30,000 ms. */
  backoffMaxMs: number;
  /** Fraction of the delay that is random (0..1). Default 0.5. */
  jitter: number;
  /** A worker that ran this long before it died resets the consecutive-failure count. Default 30,000 ms. */
  stableUptimeMs: number;
  /** At most this many restarts... (OTP's MaxR). Default 5. */
  maxRestarts: number;
  /** ...within this window (OTP's MaxT). Default 60,000 ms. */
  periodMs: number;
}

/** Default restart settings. */
export const DEFAULT_RESTART: Readonly<RestartSettings> = Object.freeze({
  backoffBaseMs: 100,
  backoffMaxMs: 30_000,
  jitter: 0.5,
  stableUptimeMs: 30_000,
  maxRestarts: 5,
  periodMs: 60_000,
});

/**
 * Consecutive failures after one more worker died: reset to 1 when the dead worker had been up
 * for the stable uptime, else one more than before.
 *
 * @example
 * ```ts
 * failures = nextFailureCount(failures, uptimeMs, settings);
 * ```
 */
export function nextFailureCount(
  previous: number,
  uptimeMs: number,
  settings: Pick<RestartSettings, "stableUptimeMs">,
): number {
  return uptimeMs >= settings.stableUptimeMs ? 1 : previous + 1;
}

/**
 * The delay before replacing a dead worker, given the consecutive failures (1 = the first):
 * none for the first (a single crash is replaced at once), then base, 2×base, 4×base… capped at
 * max, with the jittered fraction drawn from `random` (0..1).
 *
 * @example
 * ```ts
 * restartDelayMs(1, DEFAULT_RESTART); // 0
 * restartDelayMs(3, DEFAULT_RESTART, () => 1); // 200
 * ```
 */
export function restartDelayMs(
  failures: number,
  settings: RestartSettings,
  random: () => number = Math.random,
): number {
  if (failures <= 1) return 0;
  const exp = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.min(failures - 2, 30));
  const jitter = Math.min(1, Math.max(0, settings.jitter));
  return Math.round(exp * (1 - jitter) + exp * jitter * random());
}

/**
 * Records one restart at `now` and says whether the restart intensity is exceeded: more than
 * `maxRestarts` restarts within `periodMs` (as an OTP supervisor does, the supervisor then gives
 * up). Returns the history trimmed to the window.
 *
 * @example
 * ```ts
 * const r = recordRestart(history, Date.now(), { maxRestarts: 5, periodMs: 60_000 });
 * history = r.history;
 * if (r.exceeded) giveUp();
 * ```
 */
export function recordRestart(
  history: readonly number[],
  now: number,
  settings: Pick<RestartSettings, "maxRestarts" | "periodMs">,
): { history: number[]; exceeded: boolean } {
  const kept = history.filter((t) => now - t < settings.periodMs);
  kept.push(now);
  return { history: kept, exceeded: kept.length > settings.maxRestarts };
}

/** Why the master killed a worker, if it did. */
export type KillProblem = "start-timeout" | "hung" | "stalled";

/**
 * Pure: whom a worker's end is blamed on. A kill the master made (a hang, a stall, or a start
 * timeout) while the worker ran jobs is the jobs' fault when those jobs were rescued
 * (`rescued` > 0), or will be when their leases lapse (it reported jobs in flight): every such
 * rescue counts one lost attempt against each job, which is discarded as poisoned at its
 * `maxLost`, so these kills are bounded per job and need no fleet-wide limit. Everything else is
 * the worker's fault and counts toward the restart intensity: a crash or exit on its own, a
 * failed start that ran no job, a hang with no job.
 *
 * @example
 * ```ts
 * blameFor({ killedFor: "hung", rescued: 1, inFlight: 1 }); // "jobs"
 * blameFor({ killedFor: null, rescued: 1, inFlight: 1 }); // "worker": it crashed on its own
 * ```
 */
export function blameFor(end: {
  killedFor: KillProblem | null;
  /** Jobs the master rescued from it (null: the rescue failed or there is no store). */
  rescued: number | null;
  /** Jobs in flight at its last heartbeat. */
  inFlight: number;
}): "worker" | "jobs" {
  if (end.killedFor === null) return "worker";
  if ((end.rescued ?? 0) > 0) return "jobs";
  return end.killedFor !== "start-timeout" && end.inFlight > 0 ? "jobs" : "worker";
}

/** What {@link RestartBook.record} decided about one failure. */
export interface RestartDecision {
  /** The restart intensity is exceeded: give up. */
  exceeded: boolean;
  /** Earliest time (ms epoch) to start the replacement. */
  notBefore: number;
}

/**
 * The master's memory of failures: consecutive failures (for the backoff), the restarts inside
 * the intensity window, the total, and the restarts per worker slot.
 *
 * @example
 * ```ts
 * const book = new RestartBook(DEFAULT_RESTART);
 * const d = book.record(Date.now(), uptimeMs, slot);
 * if (d.exceeded) giveUp(); else startAfter(d.notBefore);
 * ```
 */
export class RestartBook {
  readonly #settings: RestartSettings;
  readonly #perSlot = new Map<number, number>();
  #failures = 0;
  #history: number[] = [];
  #total = 0;
  #jobFaults = 0;
  #notBefore = 0;

  constructor(settings: RestartSettings) {
    this.#settings = settings;
  }

  /** Records one failure (a crash, a kill for a hang or stall, a failed start). */
  record(now: number, uptimeMs: number, slot: number, random: () => number = Math.random): RestartDecision {
    this.#failures = nextFailureCount(this.#failures, uptimeMs, this.#settings);
    this.#total++;
    this.#perSlot.set(slot, (this.#perSlot.get(slot) ?? 0) + 1);
    const r = recordRestart(this.#history, now, this.#settings);
    this.#history = r.history;
    if (!r.exceeded)
      this.#notBefore = Math.max(
        this.#notBefore,
        now + restartDelayMs(this.#failures, this.#settings, random),
      );
    return { exceeded: r.exceeded, notBefore: this.#notBefore };
  }

  /**
   * Records a worker killed for a hang or stall its jobs caused (see {@link blameFor}): counted in
   * the totals, but neither toward the restart intensity nor the backoff.
   */
  recordJobFault(slot: number): void {
    this.#total++;
    this.#jobFaults++;
    this.#perSlot.set(slot, (this.#perSlot.get(slot) ?? 0) + 1);
  }

  /** Restarts blamed on jobs (see {@link recordJobFault}). */
  get jobFaults(): number {
    return this.#jobFaults;
  }

  /** Earliest time to start a replacement. */
  get notBefore(): number {
    return this.#notBefore;
  }

  /** Restarts so far. */
  get total(): number {
    return this.#total;
  }

  /** Restarts inside the intensity window ending at `now`. */
  inWindow(now: number): number {
    return this.#history.filter((t) => now - t < this.#settings.periodMs).length;
  }

  /** Restarts of one worker slot. */
  forSlot(slot: number): number {
    return this.#perSlot.get(slot) ?? 0;
  }
}
