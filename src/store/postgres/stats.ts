import type { QueueStats } from "../job-model.ts";
import { FINAL, PENDING, type PgContext } from "./context.ts";

interface StatsRow {
  queue: string;
  available: number;
  running: number;
  scheduled: number;
  retryable: number;
  waiting: number;
  enqueued: number;
  completed: number;
  oldest_ms: number | null;
}

/**
 * `after_id`: the newest id created more than a minute ago (0: none), found by walking the
 * primary key backwards (every row with a greater id was inserted in the last minute or so);
 * `max_id`: the newest id.
 *
 * @example
 * ```ts
 * const { rows } = await pool.query(recentBoundarySql(ctx));
 * ```
 */
export function recentBoundarySql(ctx: PgContext): string {
  return `SELECT
      COALESCE((SELECT j.id FROM ${ctx.jobs} j WHERE j.created_at <= now() - interval '60 seconds' ORDER BY j.id DESC LIMIT 1), 0)::text AS after_id,
      COALESCE((SELECT max(id) FROM ${ctx.jobs}), 0)::text AS max_id`;
}

/**
 * The statistics statement ($1 `after_id`, $2 `max_id` from {@link recentBoundarySql}).
 *
 * @example
 * ```ts
 * await pool.query(`EXPLAIN ${statsSql(ctx)}`);
 * ```
 */
export function statsSql(ctx: PgContext): string {
  // pending and retrying read index entries alone (claim and retryable indexes; their predicates
  // are the states): runnable are the pending rows due now, retryable the retryable rows not due
  // yet, scheduled the rest.
  return `WITH pending AS (
      SELECT queue, count(*) AS pending,
        count(*) FILTER (WHERE run_at <= now()) AS due,
        min(run_at) AS oldest
      FROM ${ctx.jobs} WHERE state IN ${PENDING} GROUP BY queue
    ),
    retrying AS (
      SELECT queue, count(*) AS retryable FROM ${ctx.jobs} WHERE state = 'retryable' AND run_at > now() GROUP BY queue
    ),
    running AS (SELECT queue, count(*) AS running FROM ${ctx.jobs} WHERE state = 'running' GROUP BY queue),
    waiting AS (SELECT queue, count(*) AS waiting FROM ${ctx.jobs} WHERE state = 'waiting' GROUP BY queue),
    enqueued AS (
      SELECT queue, count(*) AS enqueued FROM ${ctx.jobs}
      WHERE id > $1 AND id <= $2 AND created_at > now() - interval '60 seconds' GROUP BY queue
    ),
    finished AS (
      SELECT queue, count(*) FILTER (WHERE state = 'completed') AS completed FROM ${ctx.jobs}
      WHERE state IN ${FINAL} AND finished_at > now() - interval '60 seconds' GROUP BY queue
    )
    SELECT queue,
      COALESCE(p.due, 0)::int AS available, COALESCE(r.running, 0)::int AS running,
      (COALESCE(p.pending, 0) - COALESCE(p.due, 0) - COALESCE(w.retryable, 0))::int AS scheduled,
      COALESCE(w.retryable, 0)::int AS retryable, COALESCE(d.waiting, 0)::int AS waiting,
      COALESCE(e.enqueued, 0)::int AS enqueued, COALESCE(f.completed, 0)::int AS completed,
      CASE WHEN p.due > 0 THEN GREATEST(0, (extract(epoch FROM now() - p.oldest) * 1000))::float8 END AS oldest_ms
    FROM pending p LEFT JOIN retrying w USING (queue) FULL JOIN running r USING (queue) FULL JOIN waiting d USING (queue) FULL JOIN enqueued e USING (queue) FULL JOIN finished f USING (queue)
    ORDER BY queue`;
}

/**
 * Per-queue statistics (see QueueStats) for every queue with a non-final job or activity in the
 * last minute. Each part reads one partial index: pending rows through the claim index and waiting
 * retries through the retryable index (both from index entries alone once the table is vacuumed), running
 * rows through the running index, the completed rate through the finished index, and the enqueued
 * rate through the primary key: ids grow with time, so the rows created in the last minute are
 * the newest ids, found by walking the key backwards to the first older row. The cost follows the
 * live and recent rows, not the table. (A job inserted by a transaction that began more than a
 * minute before may be missed by the enqueued rate; rates are indicative.)
 *
 * @example
 * ```ts
 * for (const s of await queueStats(ctx)) console.log(s.queue, s.available);
 * ```
 */
export async function queueStats(ctx: PgContext): Promise<QueueStats[]> {
  // The boundary goes in as a value so that the planner sees how few rows lie beyond it.
  // Both ends bound the range so that even a never analyzed table is read through the key.
  const bounds = await ctx.run<{ after_id: string; max_id: string }>(
    "stats_bounds",
    recentBoundarySql(ctx),
    [],
  );
  const { after_id = "0", max_id = "0" } = bounds.rows[0] ?? {};
  const { rows } = await ctx.run<StatsRow>("stats", statsSql(ctx), [after_id, max_id]);
  return rows.map((row) => ({
    queue: row.queue,
    available: row.available,
    running: row.running,
    scheduled: row.scheduled,
    retryable: row.retryable,
    waiting: row.waiting,
    enqueuedPerSec: row.enqueued / 60,
    completedPerSec: row.completed / 60,
    oldestAvailableAgeMs: row.oldest_ms === null ? 0 : Math.round(row.oldest_ms),
  }));
}
