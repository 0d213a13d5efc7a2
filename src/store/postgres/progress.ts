import type { ProgressUpdate } from "../job-model.ts";
import type { PgContext } from "./context.ts";
import {
  ASYNC_COMMIT,
  fencedRun,
  HELD,
  idArray,
  inInputOrder,
  leaseMap,
  mapValue,
  validRefs,
} from "./leases.ts";

/**
 * Stores progress on held running jobs (see JobStore.progress), in one statement; stale refs are
 * skipped. Committed without waiting for the WAL flush, like a heartbeat: a crash loses at most the
 * latest progress, never a job.
 *
 * @example
 * ```ts
 * const written = await progressJobs(ctx, [{ id, leaseToken, progress: '{"done":3,"of":10}' }]);
 * ```
 */
export async function progressJobs(ctx: PgContext, updates: readonly ProgressUpdate[]): Promise<string[]> {
  const refs = validRefs(updates).filter((u) => typeof u.progress === "string");
  if (refs.length === 0) return [];
  const rows = await fencedRun<ProgressUpdate, { id: string }>(
    ctx,
    "progress",
    `UPDATE ${ctx.jobs} j SET progress = ${mapValue(1)}
      WHERE ${HELD} AND ${ASYNC_COMMIT}
      RETURNING j.id::text AS id`,
    refs,
    (round) => [idArray(round), leaseMap(round, (u) => [u.progress])],
  );
  return inInputOrder(refs, rows);
}
