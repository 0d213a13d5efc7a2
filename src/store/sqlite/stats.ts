import { emptyQueueStats, type QueueStats } from "../job-model.ts";
import type { SqliteContext } from "./context.ts";
import { readAll, readGet } from "./safe-read.ts";

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
 * The statements of the queue statistics, by part (`?1`: now in ms, or the window's start for
 * `finished`; `enqueued` takes the window's first id and start, `probe` an id). Exposed so that a test can check their plans.
 *
 * @example
 * ```ts
 * db.prepare(`EXPLAIN QUERY PLAN ${statsStatements("tend_jobs").pending}`).all(Date.now());
 * ```
 */
export function statsStatements(jobs: string) {
  return {
    // Index entries only: queue and run_at are in the claim index, and its predicate is the state.
    pending: `SELECT queue, count(*) AS pending, sum(run_at <= ?1) AS due, min(run_at) AS oldest
       FROM ${jobs} WHERE state IN ('available', 'scheduled', 'retryable') GROUP BY queue`,
    // Index entries only, from the retryable index.
    retrying: `SELECT queue, count(*) AS n FROM ${jobs} WHERE state = 'retryable' AND run_at > ?1 GROUP BY queue`,
    running: `SELECT queue, count(*) AS n FROM ${jobs} WHERE state = 'running' GROUP BY queue`,
    // Index entries only, from the waiting index (dependents not yet released).
    waiting: `SELECT queue, count(*) AS n FROM ${jobs} WHERE state = 'waiting' GROUP BY queue`,
    finished: `SELECT queue, sum(state = 'completed') AS completed
       FROM ${jobs} WHERE state IN ('completed', 'discarded', 'cancelled') AND finished_at >= ?1 GROUP BY queue`,
    enqueued: `SELECT queue, count(*) AS n FROM ${jobs} WHERE id >= ?1 AND created_at >= ?2 GROUP BY queue`,
    // Two statements: SQLite answers a lone min() or max() from the rowid b-tree, both together by a scan.
    lowest: `SELECT min(id) AS v FROM ${jobs}`,
    highest: `SELECT max(id) AS v FROM ${jobs}`,
    probe: `SELECT created_at FROM ${jobs} WHERE id >= ?1 ORDER BY id LIMIT 1`,
  };
}

/**
 * The first job id created at or after `since` (ms), found by bisecting on id (ids grow with
 * created_at), or null for an empty table. Call inside a read transaction for a stable answer.
 *
 * @example
 * ```ts
 * const first = firstIdSince(ctx, Date.now() - 3_600_000);
 * ```
 */
export function firstIdSince(ctx: SqliteContext, since: number): number | null {
  const sql = statsStatements(ctx.t.jobs);
  const lo = readGet(ctx.stmt(sql.lowest))!["v"];
  const hi = readGet(ctx.stmt(sql.highest))!["v"];
  if (lo === null || hi === null) return null;
  const probe = ctx.stmt(sql.probe);
  return firstTrue(Number(lo), Number(hi), (id) => {
    const row = readGet(probe, id);
    return row === undefined || Number(row["created_at"]) >= since;
  });
}

/**
 * Statistics per queue that has a non-final job or activity (enqueued or finished jobs) in the
 * last minute. Reads the claim and retryable indexes for pending counts (entries only, no row:
 * runnable are the pending rows due now, retryable the retryable rows not due yet, scheduled the
 * rest), the running index for running rows, the finished index for the last minute's finished
 * rows, and the id range of the last minute for enqueued rows; never the whole table.
 *
 * @example
 * ```ts
 * for (const s of queueStats(ctx)) console.log(s.queue, s.available, s.running);
 * ```
 */
export function queueStats(ctx: SqliteContext): QueueStats[] {
  const sql = statsStatements(ctx.t.jobs);
  const pending = ctx.stmt(sql.pending);
  const retrying = ctx.stmt(sql.retrying);
  const running = ctx.stmt(sql.running);
  const waitingJobs = ctx.stmt(sql.waiting);
  const finished = ctx.stmt(sql.finished);
  const enqueued = ctx.stmt(sql.enqueued);

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
    const waiting = new Map<string, number>();
    for (const r of readAll(retrying, now)) waiting.set(String(r["queue"]), Number(r["n"]));
    for (const r of readAll(pending, now)) {
      const s = entry(r["queue"]);
      const due = Number(r["due"]);
      s.available = due;
      s.retryable = waiting.get(s.queue) ?? 0;
      s.scheduled = Number(r["pending"]) - due - s.retryable;
      s.oldestAvailableAgeMs = due === 0 ? 0 : Math.max(0, now - Number(r["oldest"]));
    }
    for (const r of readAll(running)) entry(r["queue"]).running = Number(r["n"]);
    for (const r of readAll(waitingJobs)) entry(r["queue"]).waiting = Number(r["n"]);
    for (const r of readAll(finished, since)) {
      entry(r["queue"]).completedPerSec = Number(r["completed"]) / (RATE_WINDOW_MS / 1000);
    }
    const first = firstIdSince(ctx, since);
    if (first !== null) {
      for (const r of readAll(enqueued, first, since)) {
        entry(r["queue"]).enqueuedPerSec = Number(r["n"]) / (RATE_WINDOW_MS / 1000);
      }
    }
  } finally {
    if (ctx.db.isTransaction) ctx.db.exec("COMMIT");
  }
  return [...byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
}
