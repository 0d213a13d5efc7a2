import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Task } from "../lifecycle/index.ts";
import type { RescuedJob, Store } from "../store/index.ts";

/** Settings of the jobs maintenance task. */
export interface MaintenanceSettings {
  /** How often to rescue jobs whose lease lapsed. */
  rescueIntervalMs: number;
  /** How often to prune finished jobs. */
  pruneIntervalMs: number;
  /** Completed, discarded and cancelled jobs older than this are deleted. */
  retentionMs: number;
  log: Logger;
  /** Told of every rescue that moved jobs (metrics). */
  onRescued?: (jobs: readonly RescuedJob[]) => void;
}

/** Pure: the rescue interval for a lease length: a sixth of the lease, between 250 ms and 5 s. */
export function rescueIntervalFor(leaseMs: number): number {
  return Math.min(5_000, Math.max(250, Math.floor(leaseMs / 6)));
}

/**
 * Pure: how long to wait before the next rescue pass, `elapsedMs` after the previous one began:
 * the interval spread over its last 40% (jitter keeps many processes from hitting the database
 * together), minus the time already spent, so that two passes never begin more than the interval
 * apart (the rescue window the docs give), whatever pruning took in between.
 *
 * @example
 * ```ts
 * nextRescueWait(5_000, 1_000, 0.5); // 3_000
 * ```
 */
export function nextRescueWait(intervalMs: number, elapsedMs: number, random: number): number {
  return Math.max(0, intervalMs * (0.6 + 0.4 * Math.min(1, Math.max(0, random))) - elapsedMs);
}

/**
 * Rescues jobs whose worker died (lease lapsed) and prunes old finished jobs and the rate windows
 * that ended, on timers. Every
 * process running a worker runs it; the store's statements make concurrent runs harmless.
 * A job's lease lapses at most `leaseMs` after its worker's last heartbeat, so it is rescued within
 * `leaseMs + rescueIntervalMs`.
 */
export function maintenanceTask(store: Store, settings: MaintenanceSettings): Task {
  const log = settings.log;
  return {
    name: "jobs.maintenance",
    async run(signal) {
      let nextPrune = Date.now() + Math.min(settings.pruneIntervalMs, 60_000);
      while (!signal.aborted) {
        const passStarted = Date.now();
        try {
          const rescued = await store.jobs.rescueExpired();
          if (rescued.length > 0) settings.onRescued?.(rescued);
          for (const job of rescued) {
            log.warn(
              { jobId: job.id, kind: job.kind, attempt: job.attempt, state: job.state },
              job.poisoned
                ? "rescued a job whose lease lapsed; its worker was lost or hung maxLost times while running it, so it was discarded as poisoned (TEND_E_JOB_POISONED)"
                : job.state === "discarded"
                  ? "rescued a job whose lease lapsed; attempts exhausted, discarded"
                  : "rescued a job whose lease lapsed (its worker died or froze); it will run again",
            );
          }
          if (Date.now() >= nextPrune) {
            nextPrune = Date.now() + settings.pruneIntervalMs;
            const olderThan = new Date(Date.now() - settings.retentionMs);
            let total = 0;
            for (;;) {
              const n = await store.jobs.prune(olderThan, 5_000);
              total += n;
              if (n < 5_000 || signal.aborted) break;
              // A large backlog is pruned over several passes: the next rescue comes first.
              if (Date.now() - passStarted >= settings.rescueIntervalMs / 2) {
                nextPrune = Date.now();
                break;
              }
            }
            if (total > 0) log.info({ pruned: total, olderThan }, "pruned finished jobs");
            // Rate limits count starts in a row per key and window; a window that ended is not needed.
            const windows = await store.jobs.pruneRateWindows();
            if (windows > 0) log.debug({ pruned: windows }, "pruned rate windows that ended");
          }
        } catch (err) {
          log.warn({ err }, "job maintenance failed; will retry");
        }
        const wait = nextRescueWait(settings.rescueIntervalMs, Date.now() - passStarted, Math.random());
        await sleep(wait, undefined, { signal }).catch(() => {});
      }
    },
  };
}
