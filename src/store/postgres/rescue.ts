import type { RescuedJob } from "../job-model.ts";
import { batchNotify, NOW_ISO, type PgContext } from "./context.ts";
import { type RescueRow, toRescuedJobs } from "./rows.ts";

/**
 * The rescue statement: running rows matching `where` become retryable now (or discarded when
 * out of attempts; cancelled when a cancel was requested), with an error recorded.
 */
function rescueSql(ctx: PgContext, where: string): string {
  return `WITH r AS (
      SELECT id FROM ${ctx.jobs} WHERE state = 'running' AND ${where}
      ORDER BY id FOR UPDATE SKIP LOCKED
    ),
    u AS (
      UPDATE ${ctx.jobs} j SET
        state = CASE WHEN j.cancel_requested THEN 'cancelled' WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'retryable' END,
        run_at = CASE WHEN j.cancel_requested OR j.attempt >= j.max_attempts THEN j.run_at ELSE now() END,
        finished_at = CASE WHEN j.cancel_requested OR j.attempt >= j.max_attempts THEN now() END,
        errors = j.errors || jsonb_build_array(jsonb_build_object(
          'attempt', j.attempt, 'at', ${NOW_ISO}, 'message', $1::text, 'code', $2::text)),
        worker_id = NULL, lease_token = NULL, lease_expires_at = NULL
      FROM r WHERE j.id = r.id
      RETURNING j.id, j.kind, j.queue, j.attempt, j.state, j.batch_id
    )${batchNotify("$3")},
    woken AS (SELECT pg_notify($4, q.queue) FROM (SELECT DISTINCT queue FROM u WHERE state = 'retryable') q)
    SELECT id::text AS id, kind, queue, attempt, state, (SELECT count(*) FROM notified) + (SELECT count(*) FROM woken) AS n
    FROM u`;
}

/**
 * Rescues running jobs whose lease lapsed (see JobStore.rescueExpired). Jobs that were asked to
 * cancel become cancelled and are not listed (they will not run again and were not discarded).
 *
 * @example
 * ```ts
 * const rescued = await rescueExpiredJobs(ctx);
 * ```
 */
export async function rescueExpiredJobs(ctx: PgContext): Promise<RescuedJob[]> {
  const { rows } = await ctx.run<Omit<RescueRow, "state"> & { state: string }>(
    "rescue_expired",
    rescueSql(ctx, "lease_expires_at < now()"),
    [
      "lease expired: the worker stopped heartbeating (it died, froze or lost the database)",
      "TEND_E_LEASE_EXPIRED",
      ctx.channels.batch,
      ctx.channels.jobs,
    ],
  );
  return toRescuedJobs(rows.filter((r): r is RescueRow => r.state !== "cancelled"));
}

/**
 * Rescues every running job of one worker (see JobStore.rescueWorker).
 *
 * @example
 * ```ts
 * await rescueWorkerJobs(ctx, "worker-3", "worker process exited with code 1");
 * ```
 */
export async function rescueWorkerJobs(
  ctx: PgContext,
  workerId: string,
  reason: string,
): Promise<RescuedJob[]> {
  const { rows } = await ctx.run<Omit<RescueRow, "state"> & { state: string }>(
    "rescue_worker",
    rescueSql(ctx, "worker_id = $5"),
    [String(reason), "TEND_E_WORKER_LOST", ctx.channels.batch, ctx.channels.jobs, String(workerId)],
  );
  return toRescuedJobs(rows.filter((r): r is RescueRow => r.state !== "cancelled"));
}
