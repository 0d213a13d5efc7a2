import { checkDate } from "../../errors/index.ts";
import type { SnoozeRequest } from "../job-model.ts";
import { batchNotify, type PgContext } from "./context.ts";
import { fencedRun, HELD, idArray, inInputOrder, leaseMap, mapValue, validRefs } from "./leases.ts";

/** The request's runAt, from the lease map (value 1), as timestamptz. */
const RUN_AT = `((${mapValue(1)}) #>> '{}')::timestamptz`;

/**
 * Puts held jobs back to wait until their runAt without spending the attempt (see
 * JobStore.snooze), in one statement; a job whose cancel was requested is cancelled instead.
 * Wakes the listeners of queues whose jobs are runnable at once.
 *
 * @example
 * ```ts
 * await snoozeJobs(ctx, [{ id, leaseToken, runAt: new Date(Date.now() + 30_000) }]);
 * ```
 */
export async function snoozeJobs(ctx: PgContext, requests: readonly SnoozeRequest[]): Promise<string[]> {
  for (const r of requests) checkDate("TEND_E_INVALID_STORE_ARGUMENT", "runAt", r?.runAt);
  const refs = validRefs(requests);
  if (refs.length === 0) return [];
  const rows = await fencedRun<SnoozeRequest, { id: string }>(
    ctx,
    "snooze",
    `WITH u AS (
      UPDATE ${ctx.jobs} j SET
        state = CASE WHEN j.cancel_requested THEN 'cancelled' WHEN ${RUN_AT} > now() THEN 'scheduled' ELSE 'available' END,
        run_at = CASE WHEN j.cancel_requested THEN j.run_at ELSE ${RUN_AT} END,
        finished_at = CASE WHEN j.cancel_requested THEN now() END,
        attempt = GREATEST(j.attempt - 1, 0), started_at = NULL, worker_id = NULL,
        lease_token = NULL, lease_expires_at = NULL
      WHERE ${HELD}
      RETURNING j.id, j.queue, j.batch_id, j.state
    )${batchNotify("$4")},
    woken AS (SELECT pg_notify($3, q.queue) FROM (SELECT DISTINCT queue FROM u WHERE state = 'available') q)
    SELECT id::text AS id, (SELECT count(*) FROM notified) + (SELECT count(*) FROM woken) AS n FROM u`,
    refs,
    (round) => [
      idArray(round),
      leaseMap(round, (r) => [JSON.stringify(r.runAt.toISOString())]),
      ctx.channels.jobs,
      ctx.channels.batch,
    ],
  );
  return inInputOrder(refs, rows);
}
