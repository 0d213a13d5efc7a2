import { checkDate } from "../../errors/index.ts";
import type { SnoozeRequest } from "../job-model.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import { ref } from "./leases.ts";
import type { Row } from "./rows.ts";

/**
 * Puts held jobs back to wait until their runAt without spending the attempt (see
 * JobStore.snooze); a job whose cancel was requested is cancelled instead. Stale refs are skipped.
 *
 * @example
 * ```ts
 * await snoozeJobs(ctx, [{ id, leaseToken, runAt: new Date(Date.now() + 30_000) }]);
 * ```
 */
export async function snoozeJobs(ctx: SqliteContext, requests: readonly SnoozeRequest[]): Promise<string[]> {
  if (requests.length === 0) return [];
  const times = requests.map((r) => checkDate("TEND_E_INVALID_STORE_ARGUMENT", "runAt", r?.runAt).getTime());
  const stmt = ctx.stmt(
    `UPDATE ${ctx.t.jobs}
        SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN ?1 > ?2 THEN 'scheduled' ELSE 'available' END,
            run_at = CASE WHEN cancel_requested = 1 THEN run_at ELSE ?1 END,
            attempt = MAX(attempt - 1, 0),
            finished_at = CASE WHEN cancel_requested = 1 THEN ?2 ELSE NULL END,
            started_at = NULL, worker_id = NULL, lease_token = NULL, lease_expires_at = NULL
      WHERE id = ?3 AND lease_token = ?4 AND state = 'running'
      RETURNING queue, state, batch_id`,
  );
  const wakeups: Wakeup[] = [];
  const done = await ctx.write(() => {
    const now = ctx.now();
    const ids: string[] = [];
    requests.forEach((r, i) => {
      const row = stmt.get(times[i]!, now, ...ref(r)) as Row | undefined;
      if (row === undefined) return;
      ids.push(r.id);
      if (row["state"] === "available") wakeups.push({ channel: "jobs", payload: String(row["queue"]) });
      if (row["state"] === "cancelled" && row["batch_id"] !== null)
        wakeups.push({ channel: "batch", payload: String(row["batch_id"]) });
    });
    return ids;
  });
  ctx.emit(wakeups);
  return done;
}
