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
            }
            if (total > 0) log.info({ pruned: total, olderThan }, "pruned finished jobs");
            // Rate limits count starts in a row per key and window; a window that ended is not needed.
            const windows = await store.jobs.pruneRateWindows();
            if (windows > 0) log.debug({ pruned: windows }, "pruned rate windows that ended");
          }
        } catch (err) {
          log.warn({ err }, "job maintenance failed; will retry");
        }
        // Jitter keeps many processes from hitting the database together.
        const wait = settings.rescueIntervalMs * (0.8 + 0.4 * Math.random());
        await sleep(wait, undefined, { signal }).catch(() => {});
      }
    },
  };
}
