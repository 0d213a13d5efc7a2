/** Upper bounds (ms) of the converge-duration histogram buckets; the last bucket is +Inf. */
export const DURATION_BUCKETS_MS: readonly number[] = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000,
];

/** Counters of one converger, read by a metrics registry. */
export interface ConvergerMetrics {
  /** Sweeps started (`find` calls). */
  sweeps: number;
  /** `find` calls that failed. */
  findErrors: number;
  /**
   * Items `find` returned that are not valid keys (too long, empty, holding U+0000 or a lone
   * surrogate, or not a key at all): each is skipped and logged; the sweep goes on.
   */
  invalidKeys: number;
  /** Wake-ups received for this converger. */
  wakes: number;
  /** `converge` calls. */
  runs: number;
  /**
   * Inconsistencies recorded: `converge` calls that changed something and whose record was
   * stored (a call that returned its change after its timeout included, see `lateChanges`).
   */
  changes: number;
  /** Calls counted in `changes` that returned after their timeout (also counted in `errors` and `timeouts`). */
  lateChanges: number;
  /** Changes made whose inconsistency could not be stored (the write failed until given up): lost records. */
  recordsLost: number;
  /** `converge` calls that changed nothing. */
  unchanged: number;
  /** `converge` calls that failed (terminal ones included). */
  errors: number;
  /** Failures marked terminal. */
  terminal: number;
  /** `converge` and `find` calls that ran past their timeout. */
  timeouts: number;
  /** Leadership terms started in this process. */
  leaderTerms: number;
  /** Leases lost (fenced out or not renewed in time). */
  leasesLost: number;
  /** Whether this process leads the converger now. */
  leader: boolean;
  /** When the last sweep (`find` and offering its keys) ended without error (ms since epoch), or null. */
  lastSweepAt: number | null;
  /** When this process first led the converger (ms since epoch), or null: the last-sweep age counts from it until a sweep succeeds. */
  firstLedAt: number | null;
  /** Keys parked (terminal) in this process's current term, as of the last key run or sweep. */
  parked: number;
  /** Duration of `converge` calls: count, sum, max (ms) and cumulative counts per bucket. */
  duration: { count: number; sumMs: number; maxMs: number; buckets: number[] };
}

/**
 * A fresh set of counters.
 *
 * @example
 * ```ts
 * const m = newMetrics();
 * observeDuration(m, 12);
 * ```
 */
export function newMetrics(): ConvergerMetrics {
  return {
    sweeps: 0,
    findErrors: 0,
    invalidKeys: 0,
    wakes: 0,
    runs: 0,
    changes: 0,
    lateChanges: 0,
    recordsLost: 0,
    unchanged: 0,
    errors: 0,
    terminal: 0,
    timeouts: 0,
    leaderTerms: 0,
    leasesLost: 0,
    leader: false,
    lastSweepAt: null,
    firstLedAt: null,
    parked: 0,
    duration: { count: 0, sumMs: 0, maxMs: 0, buckets: DURATION_BUCKETS_MS.map(() => 0).concat(0) },
  };
}

/**
 * Adds one converge duration to the histogram (cumulative buckets, Prometheus-style).
 *
 * @example
 * ```ts
 * observeDuration(metrics, 42);
 * ```
 */
export function observeDuration(metrics: ConvergerMetrics, ms: number): void {
  const d = metrics.duration;
  d.count++;
  d.sumMs += ms;
  if (ms > d.maxMs) d.maxMs = ms;
  DURATION_BUCKETS_MS.forEach((bound, i) => {
    if (ms <= bound) d.buckets[i] = (d.buckets[i] ?? 0) + 1;
  });
  const last = d.buckets.length - 1;
  d.buckets[last] = (d.buckets[last] ?? 0) + 1;
}

/**
 * Pure: how long ago (ms) the converger last swept successfully, for the last-sweep age gauge
 * and its alert; null when this process has never led it. A converger whose `find` has never
 * succeeded in this process counts from when the process first led it, so the age grows while
 * every sweep fails instead of being absent.
 *
 * @example
 * ```ts
 * lastSweepAgeMs({ lastSweepAt: null, firstLedAt: 1_000 }, 61_000); // 60_000
 * ```
 */
export function lastSweepAgeMs(
  metrics: Pick<ConvergerMetrics, "lastSweepAt" | "firstLedAt">,
  now: number,
): number | null {
  const since = metrics.lastSweepAt ?? metrics.firstLedAt;
  return since === null ? null : Math.max(0, now - since);
}
