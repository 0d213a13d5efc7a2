import { createHash } from "node:crypto";
import { checkDate, checkInteger, checkOneOf, invalidArgument, TendError } from "../../errors/index.ts";
import { jobIdText } from "../args.ts";
import { createdRange, searchText, squeezeJsonSql } from "../list-text.ts";
import { type BatchProgress, JOB_STATES, type JobRecord, type ListFilter } from "../job-model.ts";
import { BLOCKING, FINAL, type PgContext } from "./context.ts";
import { JOB_COLUMNS, type JobRow, toJobRecord } from "./rows.ts";

/** Reads and operator actions: get, list, cancel, retry, prune, batches. */

/**
 * One job by id, or null.
 *
 * @example
 * ```ts
 * const job = await getJob(ctx, "42");
 * ```
 */
export async function getJob(ctx: PgContext, id: string): Promise<JobRecord | null> {
  const { rows } = await ctx.run<JobRow>("get", getJobSql(ctx), [jobIdText(id)]);
  return rows[0] === undefined ? null : toJobRecord(rows[0]);
}

/**
 * The statement of one job by id (`$1`: the id). Exposed so that a test can check its plan.
 *
 * @example
 * ```ts
 * await pool.query(getJobSql(ctx), ["42"]);
 * ```
 */
export function getJobSql(ctx: PgContext): string {
  return `SELECT ${JOB_COLUMNS} FROM ${ctx.jobs} WHERE id = $1`;
}

/**
 * The prepared statement's name, text and values of a jobs list (see {@link listJobs}); exposed
 * so that a test can check its plan. Throws TEND_E_INVALID_STORE_ARGUMENT for a bad filter.
 *
 * @example
 * ```ts
 * const { sql, values } = listSql(ctx, { state: "discarded", limit: 50 });
 * ```
 */
export function listSql(
  ctx: PgContext,
  filter: ListFilter,
): { name: string; sql: string; values: unknown[] } {
  if (filter === null || typeof filter !== "object") {
    throw invalidArgument("TEND_E_INVALID_STORE_ARGUMENT", "list filter", filter, "an object");
  }
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace("?", `$${values.length}`));
  };
  if (filter.queue !== undefined) add("queue = ?", String(filter.queue));
  if (filter.kind !== undefined) add("kind = ?", String(filter.kind));
  if (filter.state !== undefined) {
    add("state = ?", checkOneOf("TEND_E_INVALID_STORE_ARGUMENT", "state", filter.state, JOB_STATES));
  }
  if (filter.batchId !== undefined) add("batch_id = ?", String(filter.batchId));
  if (filter.beforeId !== undefined) add("id < ?", jobIdText(filter.beforeId));
  if (filter.fromId !== undefined) add("id >= ?", jobIdText(filter.fromId));
  const range = createdRange(filter);
  if (range.from !== undefined) add("created_at >= ?", range.from);
  if (range.before !== undefined) add("created_at < ?", range.before);
  // lower() on both sides: ASCII letters fold as on SQLite (PostgreSQL folds other letters too,
  // by the database's collation).
  const has = (col: string, needle: string) =>
    `strpos(lower(${squeezeJsonSql(`${col}::text`, needle)}), lower(?)) > 0`;
  if (filter.text !== undefined) {
    const t = searchText("text", filter.text);
    values.push(t);
    const n = `$${values.length}`;
    where.push(`(${has("payload", t).replace("?", n)} OR ${has("errors", t).replace("?", n)})`);
  }
  if (filter.errorText !== undefined) {
    const t = searchText("errorText", filter.errorText);
    add(has("errors", t), t);
  }
  const limit = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "limit", filter.limit ?? 100, 1, 10_000);
  values.push(limit);
  // The statement text depends only on which filters are set: one prepared statement per shape,
  // named by a digest of its text (PostgreSQL keeps 63 characters of a name).
  const sql = `SELECT ${JOB_COLUMNS} FROM ${ctx.jobs} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY id DESC LIMIT $${values.length}`;
  return {
    name: `list:${createHash("sha256").update(sql).digest("hex").slice(0, 16)}`,
    sql,
    values,
  };
}

/**
 * Jobs matching a filter, newest first (see ListFilter).
 *
 * @example
 * ```ts
 * const failed = await listJobs(ctx, { state: "discarded", limit: 50 });
 * ```
 */
export async function listJobs(ctx: PgContext, filter: ListFilter): Promise<JobRecord[]> {
  const { name, sql, values } = listSql(ctx, filter);
  const { rows } = await ctx.run<JobRow>(name, sql, values);
  return rows.map(toJobRecord);
}

/**
 * Cancels a job (see JobStore.cancel): pending becomes cancelled; running gets cancel_requested
 * and its worker is told on the "cancel" channel; final is left alone.
 *
 * @example
 * ```ts
 * const job = await cancelJob(ctx, "42");
 * ```
 */
export async function cancelJob(ctx: PgContext, id: string): Promise<JobRecord | null> {
  const { rows } = await ctx.run<JobRow>(
    "cancel",
    `WITH u AS (
      UPDATE ${ctx.jobs} j SET
        state = CASE WHEN j.state = 'running' THEN 'running' ELSE 'cancelled' END,
        cancel_requested = (j.state = 'running'),
        finished_at = CASE WHEN j.state = 'running' THEN NULL ELSE now() END
      WHERE j.id = $1 AND (j.state IN ${BLOCKING} OR j.state = 'waiting')
      RETURNING ${JOB_COLUMNS}
    ),
    told AS (SELECT pg_notify($2, u.id::text) FROM u WHERE u.state = 'running'),
    batch AS (SELECT pg_notify($3, u.batch_id) FROM u WHERE u.state = 'cancelled' AND u.batch_id IS NOT NULL)
    SELECT *, (SELECT count(*) FROM told) + (SELECT count(*) FROM batch) AS n FROM u
    UNION ALL
    SELECT ${JOB_COLUMNS}, 0 FROM ${ctx.jobs} WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM u)`,
    [jobIdText(id), ctx.channels.cancel, ctx.channels.batch],
  );
  return rows[0] === undefined ? null : toJobRecord(rows[0]);
}

/**
 * Makes a discarded, cancelled or completed job available now with attempt 0 (see
 * JobStore.retry) and wakes its queue's listeners.
 *
 * @example
 * ```ts
 * const job = await retryJob(ctx, "42");
 * ```
 */
export async function retryJob(ctx: PgContext, id: string): Promise<JobRecord | null> {
  try {
    const { rows } = await ctx.run<JobRow>(
      "retry",
      `WITH u AS (
        UPDATE ${ctx.jobs} j SET state = 'available', run_at = now(), attempt = 0, lost = 0, result = NULL,
          started_at = NULL, finished_at = NULL, worker_id = NULL, lease_token = NULL,
          lease_expires_at = NULL, cancel_requested = false
        WHERE j.id = $1 AND j.state IN ${FINAL}
        RETURNING ${JOB_COLUMNS}
      ),
      woken AS (SELECT pg_notify($2, u.queue) FROM u)
      SELECT *, (SELECT count(*) FROM woken) AS n FROM u
      UNION ALL
      SELECT ${JOB_COLUMNS}, 0 FROM ${ctx.jobs} WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM u)`,
      [jobIdText(id), ctx.channels.jobs],
    );
    return rows[0] === undefined ? null : toJobRecord(rows[0]);
  } catch (err) {
    if ((err as { code?: string }).code === "23505") {
      throw new TendError(
        "TEND_E_RETRY_UNIQUE_KEY_HELD",
        `Cannot retry job ${id}: another pending or running job holds its unique key. Wait for that job to finish or cancel it, then retry.`,
        { details: { id }, cause: err },
      );
    }
    throw err;
  }
}

/**
 * Deletes at most `limit` final jobs finished before `olderThan` (see JobStore.prune).
 *
 * @example
 * ```ts
 * await pruneJobs(ctx, new Date(Date.now() - 7 * 86_400_000), 10_000);
 * ```
 */
export async function pruneJobs(ctx: PgContext, olderThan: Date, limit: number): Promise<number> {
  checkDate("TEND_E_INVALID_STORE_ARGUMENT", "olderThan", olderThan);
  const n = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "limit", limit, 1, 1_000_000);
  const { rows } = await ctx.run<{ n: number }>(
    "prune",
    `WITH d AS (
      DELETE FROM ${ctx.jobs} WHERE id IN (
        SELECT id FROM ${ctx.jobs} WHERE state IN ${FINAL} AND finished_at < $1
        ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED
      ) RETURNING 1
    )
    SELECT count(*)::int AS n FROM d`,
    [olderThan, n],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Progress of a batch.
 *
 * @example
 * ```ts
 * const { total, finished } = await batchProgress(ctx, "b-1");
 * ```
 */
export async function batchProgress(ctx: PgContext, batchId: string): Promise<BatchProgress> {
  const { rows } = await ctx.run<{ total: number; finished: number }>(
    "batch_progress",
    `SELECT count(*)::int AS total, (count(*) FILTER (WHERE state IN ${FINAL}))::int AS finished
     FROM ${ctx.jobs} WHERE batch_id = $1`,
    [String(batchId)],
  );
  return { batchId, total: rows[0]?.total ?? 0, finished: rows[0]?.finished ?? 0 };
}

/**
 * Every job of a batch ordered by batchIndex.
 *
 * @example
 * ```ts
 * const jobs = await batchJobs(ctx, "b-1");
 * ```
 */
export async function batchJobs(ctx: PgContext, batchId: string): Promise<JobRecord[]> {
  const { rows } = await ctx.run<JobRow>(
    "batch_jobs",
    `SELECT ${JOB_COLUMNS} FROM ${ctx.jobs} WHERE batch_id = $1 ORDER BY batch_index, id`,
    [String(batchId)],
  );
  return rows.map(toJobRecord);
}
