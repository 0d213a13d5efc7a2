import type { JobActivity, QueueActivity, QueueStats } from "../../store/index.ts";
import type { AdminSources } from "./sources.ts";

/** How long one reading of the jobs' activity serves the overview and `/api/activity` (ms). */
export const ACTIVITY_TTL_MS = 10_000;

const cache = new WeakMap<AdminSources, { at: number; value: Promise<JobActivity> }>();

/**
 * The last hour's activity per minute (see AdminStore.activity), read at most once per
 * {@link ACTIVITY_TTL_MS} per dashboard: the overview re-renders on every change of the counts.
 *
 * @example
 * ```ts
 * const activity = await recentActivity(sources);
 * ```
 */
export function recentActivity(s: AdminSources): Promise<JobActivity> {
  const hit = cache.get(s);
  if (hit !== undefined && performance.now() - hit.at < ACTIVITY_TTL_MS) return hit.value;
  const value = s.store.admin.activity();
  cache.set(s, { at: performance.now(), value });
  // A failed read is not kept: the next request tries again.
  value.catch(() => cache.delete(s));
  return value;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Pure: a queue's backlog (pending and running jobs) at the end of each bucket, estimated
 * backwards from `current` (now): the backlog one bucket earlier is this one's minus the jobs
 * enqueued in it plus those finished in it. Exact when every enqueued and finished job of the
 * window was counted and no pending job was deleted meanwhile.
 *
 * @example
 * ```ts
 * backlogSeries(10, { queue: "q", enqueued: [5, 5], completed: [0, 2], discarded: [0, 0], cancelled: [0, 0] });
 * // [7, 10]
 * ```
 */
export function backlogSeries(current: number, a: QueueActivity): number[] {
  const out = new Array<number>(a.enqueued.length).fill(0);
  let level = current;
  for (let b = a.enqueued.length - 1; b >= 0; b--) {
    out[b] = Math.max(0, level);
    level = level - a.enqueued[b]! + a.completed[b]! + a.discarded[b]! + a.cancelled[b]!;
  }
  return out;
}

/** One queue's activity as the API and the overview show it. */
export interface QueueActivityView extends QueueActivity {
  /** Totals over the window. */
  total: { enqueued: number; completed: number; discarded: number; cancelled: number };
  /** Estimated pending and running jobs at the end of each bucket (see backlogSeries). */
  backlog: number[];
}

/**
 * Pure: the activity with each queue's totals and estimated backlog (from the current counts).
 *
 * @example
 * ```ts
 * const view = activityView(await store.admin.activity(), await store.jobs.stats());
 * ```
 */
export function activityView(
  a: JobActivity,
  stats: readonly QueueStats[],
): Omit<JobActivity, "queues"> & { queues: QueueActivityView[] } {
  const now = new Map(stats.map((s) => [s.queue, s.available + s.running + s.scheduled + s.retryable]));
  return {
    ...a,
    queues: a.queues.map((q) => ({
      ...q,
      total: {
        enqueued: sum(q.enqueued),
        completed: sum(q.completed),
        discarded: sum(q.discarded),
        cancelled: sum(q.cancelled),
      },
      backlog: backlogSeries(now.get(q.queue) ?? 0, q),
    })),
  };
}
