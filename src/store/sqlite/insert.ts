import type { DatabaseSync } from "node:sqlite";
import { DEFAULT_MAX_LOST, type InsertResult, type NewJob } from "../job-model.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import type { Row } from "./rows.ts";

const PENDING = "('scheduled', 'available', 'running', 'retryable')";

/**
 * Inserts jobs on `db` (the store's connection inside its own transaction, or a caller's handle
 * inside the caller's transaction). A unique key held by a blocking job yields that job's id; the
 * check runs under the write lock, so duplicates inside one call see the first one.
 *
 * @example
 * ```ts
 * const { results, wakeups } = await ctx.write(() => insertJobs(ctx, ctx.db, jobs));
 * ctx.emit(wakeups);
 * ```
 */
export function insertJobs(
  ctx: SqliteContext,
  db: DatabaseSync,
  jobs: readonly NewJob[],
): { results: InsertResult[]; wakeups: Wakeup[] } {
  const { jobs: table } = ctx.t;
  const findKey = ctx.stmt(`SELECT id FROM ${table} WHERE unique_key = ? AND state IN ${PENDING}`, db);
  const insert = ctx.stmt(
    `INSERT INTO ${table} (kind, queue, payload, priority, state, run_at, max_attempts, unique_key, created_at, batch_id, batch_index, max_lost, trace_context)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    db,
  );
  const now = ctx.now();
  const results: InsertResult[] = [];
  const queues = new Set<string>();
  for (const job of jobs) {
    if (job.uniqueKey !== null) {
      const held = findKey.get(job.uniqueKey) as Row | undefined;
      if (held !== undefined) {
        results.push({ id: String(held["id"]), inserted: false });
        continue;
      }
    }
    const runAt = job.runAt.getTime();
    const state = runAt > now ? "scheduled" : "available";
    const info = insert.run(
      job.kind,
      job.queue,
      job.payload,
      job.priority,
      state,
      runAt,
      job.maxAttempts,
      job.uniqueKey,
      now,
      job.batchId,
      job.batchIndex,
      job.maxLost ?? DEFAULT_MAX_LOST,
      job.traceContext ?? null,
    );
    results.push({ id: String(info.lastInsertRowid), inserted: true });
    if (state === "available") queues.add(job.queue);
  }
  return { results, wakeups: [...queues].map((q) => ({ channel: "jobs", payload: q })) };
}
