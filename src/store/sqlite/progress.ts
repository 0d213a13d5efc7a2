import type { ProgressUpdate } from "../job-model.ts";
import type { SqliteContext } from "./context.ts";
import { ref } from "./leases.ts";

/**
 * Stores progress on held running jobs (see JobStore.progress); stale refs are skipped. Relaxed
 * like a heartbeat: losing the latest progress to a power cut only shows an older value.
 *
 * @example
 * ```ts
 * const written = await progressJobs(ctx, [{ id, leaseToken, progress: '{"done":3,"of":10}' }]);
 * ```
 */
export async function progressJobs(
  ctx: SqliteContext,
  updates: readonly ProgressUpdate[],
): Promise<string[]> {
  if (updates.length === 0) return [];
  const stmt = ctx.stmt(
    `UPDATE ${ctx.t.jobs} SET progress = ?
      WHERE id = ? AND lease_token = ? AND state = 'running'
      RETURNING id`,
  );
  return await ctx.write(() => {
    const ids: string[] = [];
    for (const u of updates) {
      if (stmt.get(typeof u?.progress === "string" ? u.progress : null, ...ref(u)) !== undefined)
        ids.push(u.id);
    }
    return ids;
  }, true);
}
