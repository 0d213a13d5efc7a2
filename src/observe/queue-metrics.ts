import type { Registry } from "prom-client";
import type { QueueStats } from "../jobs/index.ts";
import { Cached } from "./cached.ts";
import { labelBudgets } from "./label-budget.ts";
import { foldQueueStats } from "./queue-fold.ts";
import { promClient } from "./prom.ts";

/** Options of {@link registerQueueMetrics}. */
export interface QueueMetricsOptions {
  /** How long a read of the store's statistics is reused (default 5 s). */
  ttlMs?: number;
  /** How long a read may take before the scrape answers without it (default 1 s). */
  timeoutMs?: number;
}

/**
 * The global queue gauges, read from the store at scrape time and cached for a few seconds so
 * that a fleet of processes scraped every 15 s costs the database one statistics query per
 * process per `ttlMs` (queues past the registry's label budget summed under `queue="(other)"`):
 * `tend_queue_jobs{queue,state}`, `tend_queue_oldest_available_age_seconds`,
 * `tend_queue_enqueued_per_second`, `tend_queue_completed_per_second` and `tend_store_up` (0 when
 * the read failed or was late: the scrape still answers, with the queue gauges left out).
 *
 * @example
 * ```ts
 * registerQueueMetrics(registry, () => store.jobs.stats());
 * ```
 */
export function registerQueueMetrics(
  registry: Registry,
  read: () => Promise<QueueStats[]>,
  options: QueueMetricsOptions = {},
): void {
  const { Gauge } = promClient();
  // A store may hold any number of queues (a queue per tenant, per call): past the registry's
  // budget of queue labels they are summed under queue="(other)" (see label-budget.ts), admitted
  // in name order (after those this process's job metrics admitted first).
  const { queues } = labelBudgets(registry);
  const folded = async (): Promise<QueueStats[]> =>
    foldQueueStats(
      [...(await read())].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0)),
      (queue) => queues.label(queue),
    );
  const cached = new Cached(folded, { ttlMs: options.ttlMs ?? 5_000, timeoutMs: options.timeoutMs ?? 1_000 });
  const registers = [registry];
  new Gauge({
    name: "tend_store_up",
    help: "1 when the last read of queue statistics from the store succeeded in time, else 0.",
    registers,
    // Across a supervised fleet: 0 if any worker cannot reach the store.
    aggregator: "min",
    async collect() {
      this.set((await cached.get()).ok ? 1 : 0);
    },
  });
  new Gauge({
    name: "tend_queue_jobs",
    help: "Jobs by queue and state (available: runnable now), read from the store.",
    labelNames: ["queue", "state"] as const,
    registers,
    // Every process reads the same global figures: a fleet's aggregate is one of them, not the sum.
    aggregator: "max",
    async collect() {
      const result = await cached.get();
      this.reset();
      if (!result.ok) return;
      for (const s of result.value) {
        this.set({ queue: s.queue, state: "available" }, s.available);
        this.set({ queue: s.queue, state: "running" }, s.running);
        this.set({ queue: s.queue, state: "scheduled" }, s.scheduled);
        this.set({ queue: s.queue, state: "retryable" }, s.retryable);
        this.set({ queue: s.queue, state: "waiting" }, s.waiting);
      }
    },
  });
  const perQueue = (name: string, help: string, pick: (s: QueueStats) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ["queue"] as const,
      registers,
      aggregator: "max",
      async collect() {
        const result = await cached.get();
        this.reset();
        if (!result.ok) return;
        for (const s of result.value) this.set({ queue: s.queue }, pick(s));
      },
    });
  };
  perQueue(
    "tend_queue_oldest_available_age_seconds",
    "Age of the oldest job runnable now, by queue (0 when none), read from the store.",
    (s) => s.oldestAvailableAgeMs / 1000,
  );
  perQueue(
    "tend_queue_enqueued_per_second",
    "Jobs enqueued per second over the last minute, by queue, read from the store.",
    (s) => s.enqueuedPerSec,
  );
  perQueue(
    "tend_queue_completed_per_second",
    "Jobs completed per second over the last minute, by queue, read from the store.",
    (s) => s.completedPerSec,
  );
}
