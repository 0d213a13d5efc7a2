import type { QueueStats } from "../../jobs/model.ts";
import { FINAL, PENDING, type PgContext } from "./context.ts";

interface StatsRow {
  queue: string;
  available: number;
  running: number;
  scheduled: number;
  retryable: number;
  enqueued: number;
  completed: number;
  oldest_ms: number | null;
}

/**
 * Per-queue statistics (see QueueStats) for every queue with a non-final job or activity in the
 * last minute. Each part reads one partial index: pending rows through the claim index, running
 * rows through the running index, the enqueued rate through the BRIN index on created_at and the
 * completed rate through the finished index, so the cost follows the live rows, not the table.
 *
 * @example
 * ```ts
 * for (const s of await queueStats(ctx)) console.log(s.queue, s.available);
 * ```
 */
export async function queueStats(ctx: PgContext): Promise<QueueStats[]> {
  const { rows } = await ctx.run<StatsRow>(
    "stats",
    `WITH pending AS (
      SELECT queue,
        count(*) FILTER (WHERE state = 'available' OR run_at <= now()) AS available,
        count(*) FILTER (WHERE state = 'scheduled' AND run_at > now()) AS scheduled,
        count(*) FILTER (WHERE state = 'retryable' AND run_at > now()) AS retryable,
        min(run_at) FILTER (WHERE state = 'available' OR run_at <= now()) AS oldest
      FROM ${ctx.jobs} WHERE state IN ${PENDING} GROUP BY queue
    ),
    running AS (SELECT queue, count(*) AS running FROM ${ctx.jobs} WHERE state = 'running' GROUP BY queue),
    enqueued AS (
      SELECT queue, count(*) AS enqueued FROM ${ctx.jobs} WHERE created_at > now() - interval '60 seconds' GROUP BY queue
    ),
    finished AS (
      SELECT queue, count(*) FILTER (WHERE state = 'completed') AS completed FROM ${ctx.jobs}
      WHERE state IN ${FINAL} AND finished_at > now() - interval '60 seconds' GROUP BY queue
    )
    SELECT queue,
      COALESCE(p.available, 0)::int AS available, COALESCE(r.running, 0)::int AS running,
      COALESCE(p.scheduled, 0)::int AS scheduled, COALESCE(p.retryable, 0)::int AS retryable,
      COALESCE(e.enqueued, 0)::int AS enqueued, COALESCE(f.completed, 0)::int AS completed,
      GREATEST(0, (extract(epoch FROM now() - p.oldest) * 1000))::float8 AS oldest_ms
    FROM pending p FULL JOIN running r USING (queue) FULL JOIN enqueued e USING (queue) FULL JOIN finished f USING (queue)
    ORDER BY queue`,
    [],
  );
  return rows.map((row) => ({
    queue: row.queue,
    available: row.available,
    running: row.running,
    scheduled: row.scheduled,
    retryable: row.retryable,
    enqueuedPerSec: row.enqueued / 60,
    completedPerSec: row.completed / 60,
    oldestAvailableAgeMs: row.oldest_ms === null ? 0 : Math.round(row.oldest_ms),
  }));
}
