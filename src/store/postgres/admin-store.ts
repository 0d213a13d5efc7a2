import { checkDate, checkInteger, isTendError } from "../../errors/index.ts";
import {
  type AdminStore,
  type AuditEntry,
  type AuditFilter,
  type BulkAction,
  type BulkFilter,
  type BulkOutcome,
  bulkStates,
  checkBulkFilter,
  type DeleteOutcome,
  type NewAuditEntry,
} from "../admin-model.ts";
import {
  type ActivityOptions,
  activityOptions,
  bucketActivity,
  type JobActivity,
} from "../activity-model.ts";
import { jobIdText } from "../args.ts";
import type { JobState } from "../job-model.ts";
import {
  sampleWindows,
  scaleCounts,
  type StateCount,
  type StateCountOptions,
  stateCountOptions,
  type StateCounts,
} from "../state-counts.ts";
import { bulkParts, FINAL_PREDICATE, PENDING_PREDICATE } from "../bulk-parts.ts";
import { retryJob } from "./admin.ts";
import { FINAL, PENDING, type PgContext } from "./context.ts";
import { quoteIdent } from "./identifiers.ts";
import { JOB_COLUMNS, type JobRow, toJobRecord } from "./rows.ts";

interface AuditRow {
  id: string;
  at: Date;
  action: string;
  target: string;
  token_id: string | null;
  outcome: string;
  detail: Record<string, unknown>;
}

const AUDIT_COLUMNS = "id::text AS id, at, action, target, token_id, outcome, detail";

/**
 * The statement counting a bulk action's jobs: one count per partial index that holds its states
 * (see bulkParts), summed; null when the action takes no job. Exposed so that a test can check its plan.
 *
 * @example
 * ```ts
 * const q = bulkCountSql(ctx, "cancel", { queue: "mail" });
 * if (q !== null) await pool.query(q.sql, q.values);
 * ```
 */
export function bulkCountSql(
  ctx: PgContext,
  action: BulkAction,
  filter: BulkFilter,
): { name: string; sql: string; values: unknown[] } | null {
  const f = checkBulkFilter(filter);
  const parts = bulkParts(bulkStates(action, f.state));
  if (parts.length === 0) return null;
  const values: unknown[] = [];
  const common: string[] = [];
  if (f.queue !== undefined) {
    values.push(f.queue);
    common.push(`queue = $${values.length}`);
  }
  if (f.kind !== undefined) {
    values.push(f.kind);
    common.push(`kind = $${values.length}`);
  }
  const counts = parts.map((part) => {
    values.push(part.states);
    const where = [
      ...(part.viaDependencies ? [`id IN (SELECT job_id FROM ${ctx.jobDeps})`] : []),
      ...(part.predicate === null ? [] : [part.predicate]),
      `state = ANY($${values.length}::text[])`,
      ...common,
    ];
    return `(SELECT count(*) FROM ${ctx.jobs} WHERE ${where.join(" AND ")})`;
  });
  const shape = `${parts.map((p) => (p.predicate === PENDING_PREDICATE ? "p" : p.predicate === FINAL_PREDICATE ? "f" : p.viaDependencies ? "w" : "o")).join("")}${f.queue === undefined ? "" : "q"}${f.kind === undefined ? "" : "k"}`;
  return { name: `bulk_count:${shape}`, sql: `SELECT (${counts.join(" + ")})::int AS n`, values };
}

/**
 * The statements of the jobs' activity (see AdminStore.activity). `firstId`: the first id created
 * at or after `$1` (a bisection on the primary key: ids grow with created_at), null for an empty
 * table; `enqueued`: rows from that id (`$1`) to the newest (`$2`), newest first, at most `$3`;
 * `finished`: final rows finished since `$1`, newest first, at most `$2`. Exposed so that a test
 * can check their plans.
 *
 * @example
 * ```ts
 * const { rows } = await pool.query(activitySql(ctx).firstId, [new Date(Date.now() - 3_600_000)]);
 * ```
 */
export function activitySql(ctx: PgContext): { firstId: string; enqueued: string; finished: string } {
  return {
    firstId: `WITH RECURSIVE b(lo, hi) AS (
        SELECT min(id), max(id) + 1 FROM ${ctx.jobs}
        UNION ALL
        SELECT CASE WHEN p.ok THEN b.lo ELSE (b.lo + b.hi) / 2 + 1 END,
               CASE WHEN p.ok THEN (b.lo + b.hi) / 2 ELSE b.hi END
        FROM b CROSS JOIN LATERAL (
          SELECT COALESCE((SELECT j.created_at >= $1 FROM ${ctx.jobs} j
                           WHERE j.id >= (b.lo + b.hi) / 2 ORDER BY j.id LIMIT 1), true) AS ok
        ) p
        WHERE b.lo < b.hi
      )
      SELECT lo::text AS first_id, (SELECT max(id) FROM ${ctx.jobs})::text AS max_id FROM b WHERE lo >= hi`,
    enqueued: `SELECT queue, (extract(epoch FROM created_at) * 1000)::float8 AS at FROM ${ctx.jobs}
      WHERE id >= $1 AND id <= $2 ORDER BY id DESC LIMIT $3`,
    finished: `SELECT queue, state, (extract(epoch FROM finished_at) * 1000)::float8 AS at FROM ${ctx.jobs}
      WHERE state IN ${FINAL} AND finished_at >= $1 ORDER BY finished_at DESC LIMIT $2`,
  };
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    action: row.action,
    target: row.target,
    tokenId: row.token_id,
    outcome: row.outcome,
    detail: row.detail,
  };
}

/**
 * The admin surface's storage on PostgreSQL: job deletion and the audit trail (`<schema>.admin_audit`).
 *
 * @example
 * ```ts
 * const admin = new PostgresAdminStore(ctx);
 * await admin.recordAudit({ action: "job.retry", target: "job:42", tokenId: null, outcome: "ok" });
 * ```
 */
export class PostgresAdminStore implements AdminStore {
  readonly #ctx: PgContext;
  readonly #audit: string;

  constructor(ctx: PgContext) {
    this.#ctx = ctx;
    this.#audit = `${quoteIdent(ctx.schema)}.admin_audit`;
  }

  async deleteJob(id: string): Promise<DeleteOutcome> {
    const ctx = this.#ctx;
    // One statement: the row is deleted unless running, and returned either way.
    const { rows } = await ctx.run<JobRow & { deleted: boolean }>(
      "admin_delete",
      `WITH d AS (
        DELETE FROM ${ctx.jobs} WHERE id = $1 AND state <> 'running' RETURNING ${JOB_COLUMNS}
      )
      SELECT *, true AS deleted FROM d
      UNION ALL
      SELECT ${JOB_COLUMNS}, false FROM ${ctx.jobs} WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM d)`,
      [jobIdText(id)],
    );
    const row = rows[0];
    if (row === undefined) return { deleted: false, job: null };
    return { deleted: row.deleted, job: toJobRecord(row) };
  }

  async recordAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const { rows } = await this.#ctx.run<AuditRow>(
      "admin_audit_insert",
      `INSERT INTO ${this.#audit} (action, target, token_id, outcome, detail)
       VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING ${AUDIT_COLUMNS}`,
      [entry.action, entry.target, entry.tokenId, entry.outcome, JSON.stringify(entry.detail ?? {})],
    );
    return toEntry(rows[0]!);
  }

  async listAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    const limit = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "limit", filter.limit ?? 100, 1, 1_000);
    const { rows } =
      filter.beforeId === undefined
        ? await this.#ctx.run<AuditRow>(
            "admin_audit_list",
            // By the column, not the text alias of the same name ("9" > "16" as text).
            `SELECT ${AUDIT_COLUMNS} FROM ${this.#audit} a ORDER BY a.id DESC LIMIT $1`,
            [limit],
          )
        : await this.#ctx.run<AuditRow>(
            "admin_audit_list_before",
            `SELECT ${AUDIT_COLUMNS} FROM ${this.#audit} a WHERE a.id < $1 ORDER BY a.id DESC LIMIT $2`,
            [jobIdText(filter.beforeId), limit],
          );
    return rows.map(toEntry);
  }

  /** The WHERE clause, its values ($1...) and its shape (for the statement's name), or null. */
  #bulkWhere(
    action: BulkAction,
    filter: BulkFilter,
  ): { where: string; values: unknown[]; shape: string } | null {
    const f = checkBulkFilter(filter);
    const states = bulkStates(action, f.state);
    if (states.length === 0) return null;
    const values: unknown[] = [states];
    const where = ["state = ANY($1::text[])"];
    if (f.queue !== undefined) {
      values.push(f.queue);
      where.push(`queue = $${values.length}`);
    }
    if (f.kind !== undefined) {
      values.push(f.kind);
      where.push(`kind = $${values.length}`);
    }
    return {
      where: where.join(" AND "),
      values,
      shape: `${f.queue === undefined ? "" : "q"}${f.kind === undefined ? "" : "k"}`,
    };
  }

  async activity(options?: ActivityOptions): Promise<JobActivity> {
    const o = activityOptions(options);
    const sql = activitySql(this.#ctx);
    const now = Date.now();
    const since = new Date(now - o.buckets * o.bucketMs);
    const bounds = await this.#ctx.run<{ first_id: string; max_id: string }>("activity_first", sql.firstId, [
      since,
    ]);
    const b = bounds.rows[0];
    const enqueued =
      b === undefined
        ? []
        : (
            await this.#ctx.run<{ queue: string; at: number }>("activity_enqueued", sql.enqueued, [
              b.first_id,
              b.max_id,
              o.maxRows,
            ])
          ).rows.map((r) => ({ queue: r.queue, state: null, at: r.at }));
    const finished = (
      await this.#ctx.run<{ queue: string; state: string; at: number }>("activity_finished", sql.finished, [
        since,
        o.maxRows,
      ])
    ).rows;
    return bucketActivity(enqueued, finished, now, o);
  }

  async stateCounts(options?: StateCountOptions): Promise<StateCounts> {
    const o = stateCountOptions(options);
    const ctx = this.#ctx;
    const { rows } = await ctx.run<{ lo: string | null; hi: string | null }>(
      "state_counts_bounds",
      `SELECT (SELECT min(id) FROM ${ctx.jobs})::text AS lo, (SELECT max(id) FROM ${ctx.jobs})::text AS hi`,
      [],
    );
    const { lo, hi } = rows[0] ?? { lo: null, hi: null };
    if (lo === null || hi === null) return { exact: true, sampledRows: 0, counts: [] };
    const windows = sampleWindows(Number(lo), Number(hi), o.sampleRows);
    const seen = new Map<string, StateCount>();
    const parts = await Promise.all(
      windows.map(([a, b]) =>
        ctx.run<{ queue: string; state: JobState; n: number }>(
          "state_counts_window",
          `SELECT queue, state, count(*)::int AS n FROM ${ctx.jobs} WHERE id BETWEEN $1 AND $2 GROUP BY queue, state`,
          [String(a), String(b)],
        ),
      ),
    );
    for (const part of parts)
      for (const r of part.rows) {
        const key = `${r.queue}\u0000${r.state}`;
        const c = seen.get(key) ?? { queue: r.queue, state: r.state, count: 0 };
        c.count += r.n;
        seen.set(key, c);
      }
    return scaleCounts([...seen.values()], windows, Number(lo), Number(hi));
  }

  async firstIdAt(time: Date): Promise<string | null> {
    checkDate("TEND_E_INVALID_STORE_ARGUMENT", "time", time);
    const { rows } = await this.#ctx.run<{ first_id: string }>(
      "activity_first",
      activitySql(this.#ctx).firstId,
      [time],
    );
    return rows[0]?.first_id ?? null;
  }

  async countBulk(action: BulkAction, filter: BulkFilter): Promise<number> {
    const q = bulkCountSql(this.#ctx, action, filter);
    if (q === null) return 0;
    const { rows } = await this.#ctx.run<{ n: number }>(q.name, q.sql, q.values);
    return rows[0]?.n ?? 0;
  }

  async runBulk(
    action: BulkAction,
    filter: BulkFilter,
    options: { batchSize?: number } = {},
  ): Promise<BulkOutcome> {
    const ctx = this.#ctx;
    const batchSize = checkInteger(
      "TEND_E_INVALID_STORE_ARGUMENT",
      "batchSize",
      options.batchSize ?? 1000,
      1,
      10_000,
    );
    const w = this.#bulkWhere(action, filter);
    if (w === null) return { count: 0, skipped: 0 };
    const n = w.values.length;
    // $n+1: the cursor (an id, or null for the first batch); $n+2: the batch size; $n+3: the channel.
    const batch = `SELECT id FROM ${ctx.jobs} WHERE ${w.where} AND ($${n + 1}::bigint IS NULL OR id < $${n + 1})
      ORDER BY id DESC LIMIT $${n + 2} FOR UPDATE SKIP LOCKED`;
    const change =
      action === "cancel"
        ? `UPDATE ${ctx.jobs} j SET state = 'cancelled', finished_at = now()
             FROM b WHERE j.id = b.id AND (j.state IN ${PENDING} OR j.state = 'waiting') RETURNING j.batch_id AS note`
        : action === "retry"
          ? `UPDATE ${ctx.jobs} j SET state = 'available', run_at = now(), attempt = 0, lost = 0, result = NULL,
               started_at = NULL, finished_at = NULL, worker_id = NULL, lease_token = NULL,
               lease_expires_at = NULL, cancel_requested = false
             FROM b WHERE j.id = b.id AND j.state IN ${FINAL} RETURNING j.queue AS note`
          : `DELETE FROM ${ctx.jobs} j USING b WHERE j.id = b.id AND j.state <> 'running' RETURNING NULL::text AS note`;
    const sql = `WITH b AS (${batch}),
      u AS (${change}),
      w AS (SELECT pg_notify($${n + 3}, x.note) FROM (SELECT DISTINCT note FROM u WHERE note IS NOT NULL) x)
      SELECT (SELECT count(*)::int FROM b) AS seen, (SELECT min(id)::text FROM b) AS low,
             (SELECT count(*)::int FROM u) AS done, (SELECT count(*)::int FROM w) AS woken`;
    const channel = action === "cancel" ? ctx.channels.batch : ctx.channels.jobs;
    let cursor: string | null = null;
    let count = 0;
    let skipped = 0;
    for (;;) {
      let seen: number;
      let low: string | null;
      try {
        const { rows }: { rows: Array<{ seen: number; low: string | null; done: number }> } = await ctx.run(
          `bulk_${action}:${w.shape}`,
          sql,
          [...w.values, cursor, batchSize, channel],
        );
        seen = rows[0]!.seen;
        low = rows[0]!.low;
        count += rows[0]!.done;
      } catch (err) {
        if (action !== "retry" || (err as { code?: string }).code !== "23505") throw err;
        // A unique key another job holds: this batch one job at a time, skipping those.
        const { rows }: { rows: Array<{ id: string }> } = await ctx.run(
          `bulk_ids:${w.shape}`,
          // Ordered by the column (j.id): a bare `id` would name the output's text id ("9" > "10").
          `SELECT j.id::text AS id FROM ${ctx.jobs} j WHERE ${w.where} AND ($${n + 1}::bigint IS NULL OR j.id < $${n + 1})
           ORDER BY j.id DESC LIMIT $${n + 2}`,
          [...w.values, cursor, batchSize],
        );
        for (const { id } of rows) {
          try {
            const job = await retryJob(ctx, id);
            if (job?.state === "available") count++;
          } catch (e) {
            if (!isTendError(e) || e.code !== "TEND_E_RETRY_UNIQUE_KEY_HELD") throw e;
            skipped++;
          }
        }
        seen = rows.length;
        low = rows.at(-1)?.id ?? null;
      }
      if (seen < batchSize || low === null) break;
      cursor = low;
    }
    return { count, skipped };
  }
}
