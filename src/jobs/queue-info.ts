import { emptyQueueStats, type JobStore, type QueueSetting, type QueueStats } from "../store/index.ts";

/** A queue as `listQueues` shows it: its statistics and its stored settings. */
export interface QueueInfo extends QueueStats {
  paused: boolean;
  /** When `paused` last changed, or null for a queue never paused or resumed. */
  changedAt: Date | null;
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
  for (const s of stats) byName.set(s.queue, { ...s, paused: false, changedAt: null });
  for (const setting of settings) {
    const info = byName.get(setting.queue) ?? {
      ...emptyQueueStats(setting.queue),
      paused: false,
      changedAt: null,
    };
    info.paused = setting.paused;
    info.changedAt = setting.changedAt;
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
