import { emptyQueueStats, type QueueStats } from "../job-model.ts";
import type { SqliteContext } from "./context.ts";
import type { Row } from "./rows.ts";

/** The window of the enqueued and completed rates. */
export const RATE_WINDOW_MS = 60_000;

/**
 * Pure: the smallest `x` in `[lo, hi + 1]` for which `holds(x)` is true, given that `holds` is
 * false then true along the range (monotonic). Used to find the first job id of the last minute
 * without an index on created_at (ids grow with created_at).
 *
 * @example
 * ```ts
 * firstTrue(1, 100, (x) => x * x >= 50); // 8
 * ```
 */
export function firstTrue(lo: number, hi: number, holds: (x: number) => boolean): number {
  let low = lo;
  let high = hi + 1;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (holds(mid)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * Statistics per queue that has a non-final job or activity (enqueued or finished jobs) in the
 * last minute. Reads the claim index for pending rows, the running index for running rows, the
 * finished index for the last minute's finished rows, and the id range of the last minute for
 * enqueued rows; never the whole table.
 *
 * @example
 * ```ts
 * for (const s of queueStats(ctx)) console.log(s.queue, s.available, s.running);
 * ```
 */
export function queueStats(ctx: SqliteContext): QueueStats[] {
  const { jobs } = ctx.t;
  const pending = ctx.stmt(
    `SELECT queue,
            sum(state = 'available' OR run_at <= ?1) AS available,
            sum(state = 'scheduled' AND run_at > ?1) AS scheduled,
            sum(state = 'retryable' AND run_at > ?1) AS retryable,
            min(CASE WHEN state = 'available' OR run_at <= ?1 THEN run_at END) AS oldest
       FROM ${jobs} WHERE state IN ('available', 'scheduled', 'retryable') GROUP BY queue`,
  );
  const running = ctx.stmt(`SELECT queue, count(*) AS n FROM ${jobs} WHERE state = 'running' GROUP BY queue`);
  const finished = ctx.stmt(
    `SELECT queue, sum(state = 'completed') AS completed
       FROM ${jobs} WHERE state IN ('completed', 'discarded', 'cancelled') AND finished_at >= ? GROUP BY queue`,
  );
  // Two statements: SQLite answers a lone min() or max() from the rowid b-tree, both together by a scan.
  const lowest = ctx.stmt(`SELECT min(id) AS v FROM ${jobs}`);
  const highest = ctx.stmt(`SELECT max(id) AS v FROM ${jobs}`);
  const probe = ctx.stmt(`SELECT created_at FROM ${jobs} WHERE id >= ? ORDER BY id LIMIT 1`);
  const enqueued = ctx.stmt(
    `SELECT queue, count(*) AS n FROM ${jobs} WHERE id >= ? AND created_at >= ? GROUP BY queue`,
  );

  const byQueue = new Map<string, QueueStats>();
  const entry = (queue: unknown): QueueStats => {
    const name = String(queue);
    let s = byQueue.get(name);
    if (s === undefined) {
      s = emptyQueueStats(name);
      byQueue.set(name, s);
    }
    return s;
  };

  // One read transaction, so every count comes from the same snapshot.
  ctx.db.exec("BEGIN");
  try {
    const now = ctx.now();
    const since = now - RATE_WINDOW_MS;
    for (const r of pending.all(now) as Row[]) {
      const s = entry(r["queue"]);
      s.available = Number(r["available"]);
      s.scheduled = Number(r["scheduled"]);
      s.retryable = Number(r["retryable"]);
      s.oldestAvailableAgeMs = r["oldest"] === null ? 0 : Math.max(0, now - Number(r["oldest"]));
    }
    for (const r of running.all() as Row[]) entry(r["queue"]).running = Number(r["n"]);
    for (const r of finished.all(since) as Row[]) {
      entry(r["queue"]).completedPerSec = Number(r["completed"]) / (RATE_WINDOW_MS / 1000);
    }
    const lo = (lowest.get() as Row)["v"];
    const hi = (highest.get() as Row)["v"];
    if (lo !== null && hi !== null) {
      const first = firstTrue(Number(lo), Number(hi), (id) => {
        const row = probe.get(id) as Row | undefined;
        return row === undefined || Number(row["created_at"]) >= since;
      });
      for (const r of enqueued.all(first, since) as Row[]) {
        entry(r["queue"]).enqueuedPerSec = Number(r["n"]) / (RATE_WINDOW_MS / 1000);
      }
    }
  } finally {
    if (ctx.db.isTransaction) ctx.db.exec("COMMIT");
  }
  return [...byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
}
