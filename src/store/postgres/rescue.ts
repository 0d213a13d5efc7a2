import type { RescuedJob } from "../job-model.ts";
import { batchNotify, NOW_ISO, type PgContext } from "./context.ts";
import { type RescueRow, toRescuedJobs } from "./rows.ts";

/** True (before the update) when a rescue discards row `j` as poisoned. */
const POISONS = "(NOT j.cancel_requested AND j.lost + 1 >= j.max_lost)";

/**
 * The error recorded when a rescue discards a job as poisoned ($1 = this rescue's reason): its
 * worker was lost or hung max_lost times.
 */
const POISON_ERROR = `jsonb_build_object('attempt', j.attempt, 'at', ${NOW_ISO}, 'code', 'TEND_E_JOB_POISONED', 'message',
  'the job''s worker died or hung ' || (j.lost + 1) || CASE WHEN j.lost + 1 = 1 THEN ' time' ELSE ' times' END ||
  ' while running it (maxLost ' || j.max_lost || '; this time: ' || $1::text || '); it was discarded so that it cannot ' ||
  'take down more workers. Fix what makes it crash or block its worker, then retry it: tend jobs retry ' || j.id)`;

/** True (before the update) when row `j` was claimed ahead and never started. */
const UNSTARTED = "(j.started_at IS NULL)";

/** True (before the update) when a rescue ends row `j` (cancelled or discarded). */
const ENDS = `(j.cancel_requested OR (NOT ${UNSTARTED} AND (j.attempt >= j.max_attempts OR ${POISONS})))`;

/**
 * The rescue statement: running rows matching `where` become retryable now (or discarded when
 * out of attempts, or as poisoned when this was their max_lost-th lost attempt; cancelled when a
 * cancel was requested), with an error recorded and one more lost attempt counted. A row claimed
 * ahead and never started (`started_at` NULL) is returned as a release returns it: available,
 * its attempt given back, no error, not counted as lost; it is counted in `unstarted_losses`, so
 * that its next run starts carefully (its handler may be what blocked the worker before its start
 * was recorded). The worker stays recorded on a row the
 * rescue ends (as an outcome's write leaves it), and is cleared on one that will run again.
 */
function rescueSql(ctx: PgContext, where: string): string {
  return `WITH r AS (
      SELECT id FROM ${ctx.jobs} WHERE state = 'running' AND ${where}
      ORDER BY id FOR UPDATE SKIP LOCKED
    ),
    u AS (
      UPDATE ${ctx.jobs} j SET
        state = CASE WHEN j.cancel_requested THEN 'cancelled' WHEN ${UNSTARTED} THEN 'available'
          WHEN j.attempt >= j.max_attempts OR ${POISONS} THEN 'discarded' ELSE 'retryable' END,
        run_at = CASE WHEN ${ENDS} OR ${UNSTARTED} THEN j.run_at ELSE now() END,
        finished_at = CASE WHEN ${ENDS} THEN now() END,
        errors = CASE WHEN ${UNSTARTED} THEN j.errors ELSE j.errors || jsonb_build_array(CASE WHEN ${POISONS} THEN ${POISON_ERROR} ELSE jsonb_build_object(
          'attempt', j.attempt, 'at', ${NOW_ISO}, 'message', $1::text, 'code', $2::text) END) END,
        attempt = CASE WHEN ${UNSTARTED} THEN GREATEST(j.attempt - 1, 0) ELSE j.attempt END,
        lost = CASE WHEN ${UNSTARTED} THEN j.lost ELSE j.lost + 1 END,
        unstarted_losses = CASE WHEN ${UNSTARTED} THEN j.unstarted_losses + 1 ELSE j.unstarted_losses END,
        worker_id = CASE WHEN ${ENDS} THEN j.worker_id END, lease_token = NULL, lease_expires_at = NULL
      FROM r WHERE j.id = r.id
      RETURNING j.id, j.kind, j.queue, j.attempt, j.state, j.batch_id, (j.state = 'discarded' AND j.lost >= j.max_lost) AS poisoned
    )${batchNotify("$3")},
    woken AS (SELECT pg_notify($4, q.queue) FROM (SELECT DISTINCT queue FROM u WHERE state IN ('retryable', 'available')) q)
    SELECT id::text AS id, kind, queue, attempt, state, poisoned, (SELECT count(*) FROM notified) + (SELECT count(*) FROM woken) AS n
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
  return toRescuedJobs(
    rows.filter((r): r is RescueRow => r.state === "retryable" || r.state === "discarded"),
  );
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
  return toRescuedJobs(
    rows.filter((r): r is RescueRow => r.state === "retryable" || r.state === "discarded"),
  );
}
