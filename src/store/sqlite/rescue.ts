import type { RescuedJob } from "../job-model.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import type { Row } from "./rows.ts";
import { noteSettledParent } from "./settled-parents.ts";

/*
 * Rescue of running jobs whose worker is gone: the lease lapsed (rescueExpired) or a supervisor
 * saw the worker die (rescueWorker). Each records an error for the attempt and makes the job
 * retryable now, discarded when out of attempts, or cancelled when a cancel was requested.
 */

/** Error code recorded on an attempt whose lease lapsed. */
export const LEASE_EXPIRED_CODE = "TEND_E_LEASE_EXPIRED";
/** Error code recorded on an attempt whose worker a supervisor saw die or hang. */
export const WORKER_LOST_CODE = "TEND_E_WORKER_LOST";
/** Error code recorded on the attempt that made a job's lost count reach its max_lost. */
export const POISONED_CODE = "TEND_E_JOB_POISONED";

/** True (before the update) when this rescue discards the job as poisoned. */
const POISONS = "(cancel_requested = 0 AND lost + 1 >= max_lost)";

/** The error recorded when a job is discarded as poisoned; ?2 = ISO time, ?3 = this rescue's reason. */
const POISON_ERROR = `json_object('attempt', attempt, 'at', ?2, 'code', '${POISONED_CODE}', 'message',
  'the job''s worker died or hung ' || (lost + 1) || CASE WHEN lost + 1 = 1 THEN ' time' ELSE ' times' END ||
  ' while running it (maxLost ' || max_lost || '; this time: ' || ?3 || '); it was discarded so that it cannot ' ||
  'take down more workers. Fix what makes it crash or block its worker, then retry it: tend jobs retry ' || id)`;

/** True (before the update) when the row was claimed ahead and never started. */
const UNSTARTED = "(started_at IS NULL)";

/** True (before the update) when this rescue ends the job (cancelled or discarded). */
const ENDS = `(cancel_requested = 1 OR (NOT ${UNSTARTED} AND (attempt >= max_attempts OR ${POISONS})))`;

/**
 * The SET clause shared by both rescues: ?1 = now, ?2 = ISO time, ?3 = message, ?4 = code or NULL.
 * Every rescue of a started job counts one more lost attempt; the one that reaches max_lost
 * discards the job as poisoned, whatever attempts remain. A job claimed ahead and never started
 * is returned as a release returns it: available, its attempt given back, no error, not lost.
 * The worker stays recorded on a job the rescue ends (as an outcome's write leaves it), and is
 * cleared on one that will run again.
 */
const RESCUE_SET = `
        SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN ${UNSTARTED} THEN 'available'
                         WHEN attempt >= max_attempts OR ${POISONS} THEN 'discarded' ELSE 'retryable' END,
            run_at = CASE WHEN ${ENDS} OR ${UNSTARTED} THEN run_at ELSE ?1 END,
            finished_at = CASE WHEN ${ENDS} THEN ?1 ELSE NULL END,
            errors = CASE WHEN ${UNSTARTED} THEN errors ELSE json_insert(errors, '$[#]',
              CASE WHEN ${POISONS} THEN ${POISON_ERROR}
                   WHEN ?4 IS NULL THEN json_object('attempt', attempt, 'at', ?2, 'message', ?3)
                   ELSE json_object('attempt', attempt, 'at', ?2, 'message', ?3, 'code', ?4) END) END,
            attempt = CASE WHEN ${UNSTARTED} THEN MAX(attempt - 1, 0) ELSE attempt END,
            lost = CASE WHEN ${UNSTARTED} THEN lost ELSE lost + 1 END,
            unstarted_losses = CASE WHEN ${UNSTARTED} THEN unstarted_losses + 1 ELSE unstarted_losses END,
            worker_id = CASE WHEN ${ENDS} THEN worker_id END,
            lease_token = NULL, lease_expires_at = NULL`;

const RESCUE_RETURNING =
  "RETURNING id, kind, queue, attempt, state, batch_id, has_dependents, (state = 'discarded' AND lost >= max_lost) AS poisoned";

function finishRescue(ctx: SqliteContext, rows: Row[]): RescuedJob[] {
  const wakeups: Wakeup[] = [];
  const rescued: RescuedJob[] = [];
  for (const row of rows) {
    const state = String(row["state"]);
    if (state === "retryable" || state === "available")
      wakeups.push({ channel: "jobs", payload: String(row["queue"]) });
    else {
      if (row["batch_id"] !== null) wakeups.push({ channel: "batch", payload: String(row["batch_id"]) });
      noteSettledParent(row, wakeups);
    }
    // A job whose cancel was requested is cancelled, not rescued: it will not run again.
    if (state !== "retryable" && state !== "discarded") continue;
    rescued.push({
      id: String(row["id"]),
      kind: String(row["kind"]),
      queue: String(row["queue"]),
      attempt: Number(row["attempt"]),
      state,
      poisoned: Number(row["poisoned"]) === 1,
    });
  }
  ctx.emit(wakeups);
  return rescued;
}

/**
 * Rescues running jobs whose lease expired before now (TEND_E_LEASE_EXPIRED recorded).
 *
 * @example
 * ```ts
 * const rescued = await rescueExpiredJobs(ctx);
 * ```
 */
export async function rescueExpiredJobs(ctx: SqliteContext): Promise<RescuedJob[]> {
  const stmt = ctx.stmt(
    `UPDATE ${ctx.t.jobs} ${RESCUE_SET}
      WHERE state = 'running' AND lease_expires_at < ?1
      ${RESCUE_RETURNING}`,
  );
  const rows = await ctx.write(() => {
    const now = ctx.now();
    const message =
      "lease expired: the worker neither finished nor renewed its lease in time (it died, hung or blocked its event loop)";
    return stmt.all(now, new Date(now).toISOString(), message, LEASE_EXPIRED_CODE) as Row[];
  });
  return finishRescue(ctx, rows);
}

/**
 * Rescues every running job of one worker, recording `reason` (code TEND_E_WORKER_LOST).
 *
 * @example
 * ```ts
 * const rescued = await rescueWorkerJobs(ctx, "worker-3", "worker process exited with code 1");
 * ```
 */
export async function rescueWorkerJobs(
  ctx: SqliteContext,
  workerId: string,
  reason: string,
): Promise<RescuedJob[]> {
  const stmt = ctx.stmt(
    `UPDATE ${ctx.t.jobs} ${RESCUE_SET}
      WHERE state = 'running' AND worker_id = ?5
      ${RESCUE_RETURNING}`,
  );
  const rows = await ctx.write(() => {
    const now = ctx.now();
    return stmt.all(
      now,
      new Date(now).toISOString(),
      String(reason),
      WORKER_LOST_CODE,
      String(workerId),
    ) as Row[];
  });
  return finishRescue(ctx, rows);
}
