import { checkDate, checkInteger, checkOneOf, TendError } from "../../errors/index.ts";
import { type BatchProgress, JOB_STATES, type JobRecord, type ListFilter } from "../job-model.ts";
import { createdRange, searchText, squeezeJsonSql } from "../list-text.ts";
import { jobIdArg } from "./args.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import { JOB_COLUMNS, type Row, rowToJob } from "./rows.ts";
import { noteSettledParent } from "./settled-parents.ts";
import { readAll, readGet } from "./safe-read.ts";

const FINAL = "('completed', 'discarded', 'cancelled')";

/**
 * One job by id, or null.
 *
 * @example
 * ```ts
 * const job = getJob(ctx, "42");
 * ```
 */
export function getJob(ctx: SqliteContext, id: string): JobRecord | null {
  const row = readGet(ctx.stmt(getJobSql(ctx.t.jobs)), jobIdArg(id));
  return row === undefined ? null : rowToJob(row);
}

/**
 * Cancels a job: pending ones at once, running ones by request (their worker stops them), final
 * ones unchanged. Returns the row after the change.
 *
 * @example
 * ```ts
 * const row = await cancelJob(ctx, "42"); // row?.state === "cancelled" or row?.cancelRequested
 * ```
 */
export async function cancelJob(ctx: SqliteContext, id: string): Promise<JobRecord | null> {
  const { jobs } = ctx.t;
  const rowId = jobIdArg(id);
  const cancelPending = ctx.stmt(
    `UPDATE ${jobs} SET state = 'cancelled', finished_at = ?
      WHERE id = ? AND state IN ('scheduled', 'available', 'retryable', 'waiting') RETURNING batch_id, has_dependents`,
  );
  const requestCancel = ctx.stmt(
    `UPDATE ${jobs} SET cancel_requested = 1 WHERE id = ? AND state = 'running' AND cancel_requested = 0 RETURNING id`,
  );
  const wakeups: Wakeup[] = [];
  const row = await ctx.write(() => {
    const pending = cancelPending.get(ctx.now(), rowId) as Row | undefined;
    if (pending !== undefined) {
      if (pending["batch_id"] !== null)
        wakeups.push({ channel: "batch", payload: String(pending["batch_id"]) });
      noteSettledParent(pending, wakeups);
    } else if (requestCancel.get(rowId) !== undefined) {
      wakeups.push({ channel: "cancel", payload: id });
    }
    return getJob(ctx, id);
  });
  ctx.emit(wakeups);
  return row;
}

/**
 * Makes a final job available again now with attempt 0. Throws TEND_E_RETRY_UNIQUE_KEY_HELD when its
 * unique key is held by another pending or running job (retrying would duplicate it).
 *
 * @example
 * ```ts
 * const row = await retryJob(ctx, "42"); // row?.state === "available"
 * ```
 */
export async function retryJob(ctx: SqliteContext, id: string): Promise<JobRecord | null> {
  const { jobs } = ctx.t;
  const rowId = jobIdArg(id);
  const holder = ctx.stmt(
    `SELECT b.id AS holder FROM ${jobs} a JOIN ${jobs} b ON b.unique_key = a.unique_key
      WHERE a.id = ? AND a.state IN ${FINAL} AND a.unique_key IS NOT NULL
        AND b.state IN ('scheduled', 'available', 'running', 'retryable')`,
  );
  const retry = ctx.stmt(
    `UPDATE ${jobs}
        SET state = 'available', attempt = 0, lost = 0, run_at = ?, finished_at = NULL, started_at = NULL, worker_id = NULL,
            lease_token = NULL, lease_expires_at = NULL, cancel_requested = 0, result = NULL
      WHERE id = ? AND state IN ${FINAL}
      RETURNING queue`,
  );
  const wakeups: Wakeup[] = [];
  const row = await ctx.write(() => {
    const held = holder.get(rowId) as Row | undefined;
    if (held !== undefined) {
      throw new TendError(
        "TEND_E_RETRY_UNIQUE_KEY_HELD",
        `Cannot retry job ${id}: job ${String(held["holder"])} holds the same unique key and is still pending or running. Cancel or finish that job first.`,
        { details: { id, holder: String(held["holder"]) } },
      );
    }
    const done = retry.get(ctx.now(), rowId) as Row | undefined;
    if (done !== undefined) wakeups.push({ channel: "jobs", payload: String(done["queue"]) });
    return getJob(ctx, id);
  });
  ctx.emit(wakeups);
  return row;
}

/**
 * The statement of one job by id (`?`: the id). Exposed so that a test can check its plan.
 *
 * @example
 * ```ts
 * db.prepare(getJobSql("tend_jobs")).get(42);
 * ```
 */
export function getJobSql(jobs: string): string {
  return `SELECT ${JOB_COLUMNS} FROM ${jobs} WHERE id = ?`;
}

/**
 * The statement and arguments of a jobs list (see {@link listJobs}); exposed so that a test can
 * check its plan. Throws TEND_E_INVALID_STORE_ARGUMENT for a bad state or limit.
 *
 * @example
 * ```ts
 * const { sql, args } = listSql("tend_jobs", { state: "discarded", limit: 50 });
 * ```
 */
export function listSql(
  jobs: string,
  filter: ListFilter,
): { sql: string; args: Array<string | number | bigint> } {
  const where: string[] = [];
  const args: Array<string | number | bigint> = [];
  if (filter.queue !== undefined) {
    where.push("queue = ?");
    args.push(filter.queue);
  }
  if (filter.kind !== undefined) {
    where.push("kind = ?");
    args.push(filter.kind);
  }
  if (filter.state !== undefined) {
    where.push("state = ?");
    args.push(checkOneOf("TEND_E_INVALID_STORE_ARGUMENT", "state", filter.state, JOB_STATES));
  }
  if (filter.batchId !== undefined) {
    where.push("batch_id = ?");
    args.push(filter.batchId);
  }
  if (filter.beforeId !== undefined) {
    where.push("id < ?");
    args.push(jobIdArg(filter.beforeId));
  }
  if (filter.fromId !== undefined) {
    where.push("id >= ?");
    args.push(jobIdArg(filter.fromId));
  }
  const range = createdRange(filter);
  if (range.from !== undefined) {
    where.push("created_at >= ?");
    args.push(range.from.getTime());
  }
  if (range.before !== undefined) {
    where.push("created_at < ?");
    args.push(range.before.getTime());
  }
  // lower() of SQLite folds ASCII letters only, as searchText does.
  if (filter.text !== undefined) {
    const t = searchText("text", filter.text);
    where.push(
      `(instr(lower(${squeezeJsonSql("payload", t)}), ?) > 0 OR instr(lower(${squeezeJsonSql("errors", t)}), ?) > 0)`,
    );
    args.push(t, t);
  }
  if (filter.errorText !== undefined) {
    const t = searchText("errorText", filter.errorText);
    where.push(`instr(lower(${squeezeJsonSql("errors", t)}), ?) > 0`);
    args.push(t);
  }
  const limit = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "limit", filter.limit ?? 100, 1, 10_000);
  args.push(limit);
  const sql =
    `SELECT ${JOB_COLUMNS} FROM ${jobs}` +
    (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "") +
    " ORDER BY id DESC LIMIT ?";
  return { sql, args };
}

/**
 * Jobs newest first, filtered; limit defaults to 100 and is capped at 10,000.
 *
 * @example
 * ```ts
 * const failed = listJobs(ctx, { state: "discarded", limit: 50 });
 * ```
 */
export function listJobs(ctx: SqliteContext, filter: ListFilter): JobRecord[] {
  const { sql, args } = listSql(ctx.t.jobs, filter);
  return readAll(ctx.stmt(sql), ...args).map(rowToJob);
}

/**
 * Deletes up to `limit` final jobs finished before `olderThan`; returns how many.
 *
 * @example
 * ```ts
 * const deleted = await pruneJobs(ctx, new Date(Date.now() - 7 * 86_400_000), 10_000);
 * ```
 */
export async function pruneJobs(ctx: SqliteContext, olderThan: Date, limit: number): Promise<number> {
  const { jobs } = ctx.t;
  const before = checkDate("TEND_E_INVALID_STORE_ARGUMENT", "olderThan", olderThan).getTime();
  const max = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "limit", limit, 1, 1_000_000);
  const stmt = ctx.stmt(
    `DELETE FROM ${jobs} WHERE id IN (
       SELECT id FROM ${jobs} WHERE state IN ${FINAL} AND finished_at < ? LIMIT ?)`,
  );
  return await ctx.write(() => Number(stmt.run(before, max).changes));
}

/**
 * Total and finished jobs of a batch.
 *
 * @example
 * ```ts
 * const { total, finished } = batchProgress(ctx, "batch-1");
 * ```
 */
export function batchProgress(ctx: SqliteContext, batchId: string): BatchProgress {
  const row = readGet(
    ctx.stmt(
      `SELECT count(*) AS total, coalesce(sum(state IN ${FINAL}), 0) AS finished
         FROM ${ctx.t.jobs} WHERE batch_id = ?`,
    ),
    batchId,
  )!;
  return { batchId, total: Number(row["total"]), finished: Number(row["finished"]) };
}

/**
 * Every job of a batch by batchIndex.
 *
 * @example
 * ```ts
 * const jobs = batchJobs(ctx, "batch-1");
 * ```
 */
export function batchJobs(ctx: SqliteContext, batchId: string): JobRecord[] {
  return readAll(
    ctx.stmt(`SELECT ${JOB_COLUMNS} FROM ${ctx.t.jobs} WHERE batch_id = ? ORDER BY batch_index, id`),
    batchId,
  ).map(rowToJob);
}
