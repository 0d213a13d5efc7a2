import { emptyQueueStats, type JobStore, type QueueSetting, type QueueStats } from "../store/index.ts";

/** A queue as `listQueues` shows it: its statistics and its stored settings. */
export interface QueueInfo extends QueueStats {
  paused: boolean;
  /** When `paused` last changed, or null for a queue never paused or resumed. */
  changedAt: Date | null;
  /** The queue's own concurrency limit (`setQueueLimits`), or null. */
  concurrencyLimit: number | null;
  /** The queue's own rate limit (`setQueueLimits`), or null. */
  rateLimit: { limit: number; periodMs: number } | null;
}

/**
 * Pure: statistics and settings merged by queue name, sorted by name. A queue with settings and
 * no jobs gets empty statistics; one with jobs and no settings is not paused.
 *
 * @example
 * ```ts
 * mergeQueueInfos([emptyQueueStats("a")], [{ queue: "a", paused: true, changedAt: new Date() }]);
 * ```
 */
export function mergeQueueInfos(
  stats: readonly QueueStats[],
  settings: readonly QueueSetting[],
): QueueInfo[] {
  const byName = new Map<string, QueueInfo>();
  const none = { paused: false, changedAt: null, concurrencyLimit: null, rateLimit: null };
  for (const s of stats) byName.set(s.queue, { ...s, ...none });
  for (const setting of settings) {
    const info = byName.get(setting.queue) ?? { ...emptyQueueStats(setting.queue), ...none };
    info.paused = setting.paused;
    info.changedAt = setting.changedAt;
    info.concurrencyLimit = setting.concurrencyLimit;
    info.rateLimit = setting.rateLimit;
    byName.set(setting.queue, info);
  }
  return [...byName.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
}

/**
 * Reads a store's queue statistics and settings and merges them (see {@link mergeQueueInfos}).
 *
 * @example
 * ```ts
 * const queues = await queueInfos(store.jobs);
 * ```
 */
export async function queueInfos(jobs: JobStore): Promise<QueueInfo[]> {
  const [stats, settings] = await Promise.all([jobs.stats(), jobs.listQueues()]);
  return mergeQueueInfos(stats, settings);
}
