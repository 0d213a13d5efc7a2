import { emptyQueueStats, type QueueStats } from "../store/index.ts";

/** Settings of the scaling policy. */
export interface ScalingSettings {
  /** Runnable-or-running jobs that justify one worker (about a worker's job concurrency). Default 10. */
  jobsPerWorker: number;
  /** Seconds of net inflow (enqueue rate minus completion rate) to provision for ahead. Default 10. */
  horizonSec: number;
  /** If the oldest runnable job is older than this, add a worker even when the count looks enough. Default 10,000 ms. */
  maxWaitMs: number;
  /** Demand must stay below the current count this long before one worker is removed; also the gap between removals. */
  scaleDownCooldownMs: number;
}

/** Memory the policy carries between calls (start with {@link initialScalingState}). */
export interface ScalingState {
  /** When demand first fell below the current count (null while it is not below). */
  lowSince: number | null;
  /** When the policy last removed a worker (null: never). */
  lastScaleDownAt: number | null;
}

/** What {@link decideWorkerCount} decides from. */
export interface ScalingInput {
  /** Summed statistics of the queues the fleet serves. */
  stats: QueueStats;
  /** The worker count now (the target: ready workers and those still starting). */
  current: number;
  /** How many workers are spawned and not ready yet (a slot held back by the restart backoff is not). Default 0. */
  starting?: number;
  min: number;
  max: number;
  /** ms epoch. */
  now: number;
}

/** One decision: the count to run, why, and the state for the next call. */
export interface ScalingDecision {
  desired: number;
  /** Workers the load asks for, before min/max and cooldown. */
  demand: number;
  reason: "backlog" | "waiting" | "idle" | "cooldown" | "steady" | "bounds";
  state: ScalingState;
}

/** The state before any decision. */
export const initialScalingState: ScalingState = Object.freeze({ lowSince: null, lastScaleDownAt: null });

/** Default scaling settings. */
export const DEFAULT_SCALING: Readonly<ScalingSettings> = Object.freeze({
  jobsPerWorker: 10,
  horizonSec: 10,
  maxWaitMs: 10_000,
  scaleDownCooldownMs: 60_000,
});

/**
 * Adds up the statistics of the queues the fleet serves (all queues when `queues` is empty).
 *
 * @example
 * ```ts
 * const total = sumQueueStats(await store.jobs.stats(), ["default"]);
 * ```
 */
export function sumQueueStats(stats: readonly QueueStats[], queues: readonly string[] = []): QueueStats {
  const total = emptyQueueStats(queues.length === 0 ? "*" : queues.join(","));
  for (const s of stats) {
    if (queues.length > 0 && !queues.includes(s.queue)) continue;
    total.available += s.available;
    total.running += s.running;
    total.scheduled += s.scheduled;
    total.retryable += s.retryable;
    total.enqueuedPerSec += s.enqueuedPerSec;
    total.completedPerSec += s.completedPerSec;
    total.oldestAvailableAgeMs = Math.max(total.oldestAvailableAgeMs, s.oldestAvailableAgeMs);
  }
  return total;
}

/**
 * The scaling policy, a pure function: from the queue statistics (read from the store), the
 * current worker count, min and max, decides how many workers to run. Up quickly: as soon as the
 * backlog (runnable + running jobs, plus the net inflow over the horizon) asks for more workers,
 * the count jumps straight there. Down slowly: only after demand stayed below the count for the
 * cooldown, and then one worker per cooldown. Never outside [min, max].
 *
 * When the oldest runnable job has waited longer than `maxWait` although the count looks enough,
 * one worker is added, but only while none of the `current` workers is still starting: a worker
 * on its way is capacity the waiting job is about to get, so one long wait adds one worker per
 * start (the next one once that worker is ready and the job still waits), not one per call.
 *
 * @example
 * ```ts
 * let state = initialScalingState;
 * const d = decideWorkerCount({ stats, current: 2, starting: 0, min: 1, max: 8, now: Date.now() }, state);
 * state = d.state; // d.desired is between 1 and 8
 * ```
 */
export function decideWorkerCount(
  input: ScalingInput,
  state: ScalingState,
  settings: ScalingSettings = DEFAULT_SCALING,
): ScalingDecision {
  const { stats, current, min, max, now } = input;
  const starting = input.starting ?? 0;
  const clamp = (n: number): number => Math.min(max, Math.max(min, n));
  const netInflow = Math.max(0, stats.enqueuedPerSec - stats.completedPerSec);
  const load = stats.available + stats.running + netInflow * settings.horizonSec;
  let demand = Math.ceil(load / Math.max(1, settings.jobsPerWorker));
  let reason: ScalingDecision["reason"] = "backlog";
  if (stats.available > 0 && stats.oldestAvailableAgeMs > settings.maxWaitMs && demand <= current) {
    // A worker still starting will take the waiting job: wait for it before adding another.
    demand = starting > 0 ? current : current + 1;
    reason = "waiting";
  }
  if (current < min || current > max) {
    return {
      desired: clamp(Math.max(demand, Math.min(current, max))),
      demand,
      reason: "bounds",
      state: initialScalingState,
    };
  }
  if (demand > current) {
    const desired = clamp(demand);
    return {
      desired,
      demand,
      reason: desired === current ? "bounds" : reason,
      state: { lowSince: null, lastScaleDownAt: state.lastScaleDownAt },
    };
  }
  if (demand === current || current <= min) {
    return {
      desired: current,
      demand,
      reason: "steady",
      state: { lowSince: null, lastScaleDownAt: state.lastScaleDownAt },
    };
  }
  // Demand is below the count: remove one worker per cooldown once it has stayed low for a cooldown.
  const lowSince = state.lowSince ?? now;
  const sinceLastDown =
    state.lastScaleDownAt === null ? Number.POSITIVE_INFINITY : now - state.lastScaleDownAt;
  if (now - lowSince >= settings.scaleDownCooldownMs && sinceLastDown >= settings.scaleDownCooldownMs) {
    return { desired: clamp(current - 1), demand, reason: "idle", state: { lowSince, lastScaleDownAt: now } };
  }
  return {
    desired: current,
    demand,
    reason: "cooldown",
    state: { lowSince, lastScaleDownAt: state.lastScaleDownAt },
  };
}
