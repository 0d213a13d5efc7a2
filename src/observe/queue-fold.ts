import type { QueueStats } from "../jobs/index.ts";

/**
 * Pure: the queue statistics under the labels `label` gives their queues, queues sharing a label
 * (those folded into "(other)") merged: counts and rates summed, the oldest age the largest.
 * Order kept (a merged entry where its first queue was).
 *
 * @example
 * ```ts
 * foldQueueStats(stats, (q) => queues.label(q)); // at most the budget's queues, plus "(other)"
 * ```
 */
export function foldQueueStats(stats: readonly QueueStats[], label: (queue: string) => string): QueueStats[] {
  const out = new Map<string, QueueStats>();
  for (const s of stats) {
    const queue = label(s.queue);
    const seen = out.get(queue);
    if (seen === undefined) {
      out.set(queue, { ...s, queue });
      continue;
    }
    seen.available += s.available;
    seen.running += s.running;
    seen.scheduled += s.scheduled;
    seen.retryable += s.retryable;
    seen.waiting += s.waiting;
    seen.enqueuedPerSec += s.enqueuedPerSec;
    seen.completedPerSec += s.completedPerSec;
    seen.oldestAvailableAgeMs = Math.max(seen.oldestAvailableAgeMs, s.oldestAvailableAgeMs);
  }
  return [...out.values()];
}
