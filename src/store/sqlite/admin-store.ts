import { checkDate, checkInteger } from "../../errors/index.ts";
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
  type ActivityRow,
  activityOptions,
  bucketActivity,
  type JobActivity,
} from "../activity-model.ts";
import { jobIdText } from "../args.ts";
import { bulkParts } from "../bulk-parts.ts";
import { getJob } from "./admin.ts";
import { jobIdArg } from "./args.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import type { Row } from "./rows.ts";
import { noteSettledParent } from "./settled-parents.ts";
import { firstIdSince, statsStatements } from "./stats.ts";
import {
  sampleWindows,
  scaleCounts,
  type StateCount,
  type StateCountOptions,
  stateCountOptions,
  type StateCounts,
} from "../state-counts.ts";
import type { JobState } from "../job-model.ts";
import { readAll, readGet } from "./safe-read.ts";

/**
 * The statements counting a bulk action's jobs, one per partial index that holds its states (see
 * bulkParts); their sum is the count. Exposed so that a test can check their plans.
 *
 * @example
 * ```ts
 * for (const { sql, args } of bulkCountSql("tend_jobs", "cancel", { queue: "mail" }, "tend_job_deps")) db.prepare(sql).get(...args);
 * ```
 */
export function bulkCountSql(
  jobs: string,
  action: BulkAction,
  filter: BulkFilter,
  deps: string,
): Array<{ sql: string; args: string[] }> {
  const f = checkBulkFilter(filter);
  return bulkParts(bulkStates(action, f.state)).map((part) => {
    const where = [`state IN (${part.states.map(() => "?").join(", ")})`];
    if (part.predicate !== null) where.unshift(part.predicate);
    if (part.viaDependencies) where.unshift(`id IN (SELECT job_id FROM ${deps})`);
    const args: string[] = [...part.states];
    if (f.queue !== undefined) {
      where.push("queue = ?");
      args.push(f.queue);
    }
    if (f.kind !== undefined) {
      where.push("kind = ?");
      args.push(f.kind);
    }
    return { sql: `SELECT count(*) AS n FROM ${jobs} WHERE ${where.join(" AND ")}`, args };
  });
}

/**
 * The statements of the jobs' activity (see AdminStore.activity): finished jobs through the
 * finished index (`?1`: since, ms; `?2`: most rows), enqueued jobs through the primary key (`?1`:
 * the first id of the window). Exposed so that a test can check their plans.
 *
 * @example
 * ```ts
 * db.prepare(activitySql("tend_jobs").finished).all(Date.now() - 3_600_000, 20_000);
 * ```
 */
export function activitySql(jobs: string): { finished: string; enqueued: string } {
  return {
    finished: `SELECT queue, state, finished_at AS at FROM ${jobs}
      WHERE state IN ('completed', 'discarded', 'cancelled') AND finished_at >= ?1 ORDER BY finished_at DESC LIMIT ?2`,
    enqueued: `SELECT queue, created_at AS at FROM ${jobs} WHERE id >= ?1 ORDER BY id DESC LIMIT ?2`,
  };
}

function activityRows(rows: Row[]): ActivityRow[] {
  return rows.map((r) => ({
    queue: String(r["queue"]),
    state: r["state"] === undefined ? null : String(r["state"]),
    at: Number(r["at"]),
  }));
}

function toEntry(row: Row): AuditEntry {
  return {
    id: String(row["id"]),
    at: new Date(Number(row["at"])),
    action: String(row["action"]),
    target: String(row["target"]),
    tokenId: row["token_id"] === null ? null : String(row["token_id"]),
    outcome: String(row["outcome"]),
    detail: JSON.parse(String(row["detail"])) as Record<string, unknown>,
  };
}

/**
 * The admin surface's storage on SQLite: job deletion and the audit trail (`<prefix>admin_audit`).
 *
 * @example
 * ```ts
 * const admin = new SqliteAdminStore(ctx, "tend_");
 * await admin.recordAudit({ action: "job.retry", target: "job:42", tokenId: null, outcome: "ok" });
 * ```
 */
export class SqliteAdminStore implements AdminStore {
  readonly #ctx: SqliteContext;
  readonly #audit: string;

  constructor(ctx: SqliteContext, prefix: string) {
    this.#ctx = ctx;
    this.#audit = `"${prefix}admin_audit"`;
  }

  async deleteJob(id: string): Promise<DeleteOutcome> {
    const ctx = this.#ctx;
    const rowId = jobIdArg(jobIdText(id));
    // A parent deleted before it finished settles its dependents (the delete trigger).
    const remove = ctx.stmt(
      `DELETE FROM ${ctx.t.jobs} WHERE id = ? AND state <> 'running'
        RETURNING has_dependents AND state NOT IN ('completed', 'discarded', 'cancelled') AS has_dependents`,
    );
    const wakeups: Wakeup[] = [];
    const outcome = await ctx.write(() => {
      const job = getJob(ctx, id);
      if (job === null) return { deleted: false, job: null };
      const row = remove.get(rowId) as Row | undefined;
      if (row !== undefined) noteSettledParent(row, wakeups);
      return { deleted: row !== undefined, job };
    });
    ctx.emit(wakeups);
    return outcome;
  }

  async recordAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const ctx = this.#ctx;
    const insert = ctx.stmt(
      `INSERT INTO ${this.#audit} (at, action, target, token_id, outcome, detail)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING id, at, action, target, token_id, outcome, detail`,
    );
    return await ctx.write(() =>
      toEntry(
        insert.get(
          ctx.now(),
          entry.action,
          entry.target,
          entry.tokenId,
          entry.outcome,
          JSON.stringify(entry.detail ?? {}),
        ) as Row,
      ),
    );
  }

  listAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    const limit = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "limit", filter.limit ?? 100, 1, 1_000);
    const before = filter.beforeId === undefined ? null : jobIdArg(jobIdText(filter.beforeId));
    const sql =
      `SELECT id, at, action, target, token_id, outcome, detail FROM ${this.#audit}` +
      (before === null ? "" : " WHERE id < ?") +
      " ORDER BY id DESC LIMIT ?";
    const args = before === null ? [limit] : [before, limit];
    return Promise.resolve((this.#ctx.stmt(sql).all(...args) as Row[]).map(toEntry));
  }

  /** The WHERE clause and arguments of a bulk action's jobs, or null when it takes none. */
  #bulkWhere(action: BulkAction, filter: BulkFilter): { where: string; args: string[] } | null {
    const f = checkBulkFilter(filter);
    const states = bulkStates(action, f.state);
    if (states.length === 0) return null;
    const where = [`state IN (${states.map(() => "?").join(", ")})`];
    const args: string[] = [...states];
    if (f.queue !== undefined) {
      where.push("queue = ?");
      args.push(f.queue);
    }
    if (f.kind !== undefined) {
      where.push("kind = ?");
      args.push(f.kind);
    }
    return { where: where.join(" AND "), args };
  }

  async activity(options?: ActivityOptions): Promise<JobActivity> {
    const ctx = this.#ctx;
    const o = activityOptions(options);
    const sql = activitySql(ctx.t.jobs);
    // One read transaction: both series from the same snapshot.
    ctx.db.exec("BEGIN");
    try {
      const now = ctx.now();
      const since = now - o.buckets * o.bucketMs;
      const first = firstIdSince(ctx, since);
      const enqueued = first === null ? [] : activityRows(readAll(ctx.stmt(sql.enqueued), first, o.maxRows));
      const finished = activityRows(readAll(ctx.stmt(sql.finished), since, o.maxRows));
      return bucketActivity(enqueued, finished, now, o);
    } finally {
      if (ctx.db.isTransaction) ctx.db.exec("COMMIT");
    }
  }

  async firstIdAt(time: Date): Promise<string | null> {
    const at = checkDate("TEND_E_INVALID_STORE_ARGUMENT", "time", time).getTime();
    const ctx = this.#ctx;
    ctx.db.exec("BEGIN");
    try {
      const first = firstIdSince(ctx, at);
      return first === null ? null : String(first);
    } finally {
      if (ctx.db.isTransaction) ctx.db.exec("COMMIT");
    }
  }

  async stateCounts(options?: StateCountOptions): Promise<StateCounts> {
    const o = stateCountOptions(options);
    const ctx = this.#ctx;
    const sql = statsStatements(ctx.t.jobs);
    // One read transaction: the bounds and every window from the same snapshot.
    ctx.db.exec("BEGIN");
    try {
      const lo = readGet(ctx.stmt(sql.lowest))!["v"];
      const hi = readGet(ctx.stmt(sql.highest))!["v"];
      if (lo === null || hi === null) return { exact: true, sampledRows: 0, counts: [] };
      const windows = sampleWindows(Number(lo), Number(hi), o.sampleRows);
      const window = ctx.stmt(
        `SELECT queue, state, count(*) AS n FROM ${ctx.t.jobs} WHERE id BETWEEN ? AND ? GROUP BY queue, state`,
      );
      const seen = new Map<string, StateCount>();
      for (const [a, b] of windows)
        for (const r of window.all(a, b) as Row[]) {
          const key = `${String(r["queue"])}\u0000${String(r["state"])}`;
          const c = seen.get(key) ?? { queue: String(r["queue"]), state: r["state"] as JobState, count: 0 };
          c.count += Number(r["n"]);
          seen.set(key, c);
        }
      return scaleCounts([...seen.values()], windows, Number(lo), Number(hi));
    } finally {
      if (ctx.db.isTransaction) ctx.db.exec("COMMIT");
    }
  }

  countBulk(action: BulkAction, filter: BulkFilter): Promise<number> {
    const ctx = this.#ctx;
    const parts = bulkCountSql(ctx.t.jobs, action, filter, ctx.t.jobDeps);
    if (parts.length === 1)
      return Promise.resolve(Number((ctx.stmt(parts[0]!.sql).get(...parts[0]!.args) as Row)["n"]));
    // One read transaction: the parts count the same snapshot.
    ctx.db.exec("BEGIN");
    try {
      let n = 0;
      for (const p of parts) n += Number((ctx.stmt(p.sql).get(...p.args) as Row)["n"]);
      return Promise.resolve(n);
    } finally {
      if (ctx.db.isTransaction) ctx.db.exec("COMMIT");
    }
  }

  async runBulk(
    action: BulkAction,
    filter: BulkFilter,
    options: { batchSize?: number } = {},
  ): Promise<BulkOutcome> {
    const ctx = this.#ctx;
    const { jobs } = ctx.t;
    const batchSize = checkInteger(
      "TEND_E_INVALID_STORE_ARGUMENT",
      "batchSize",
      options.batchSize ?? 1000,
      1,
      10_000,
    );
    const w = this.#bulkWhere(action, filter);
    if (w === null) return { count: 0, skipped: 0 };
    const first = ctx.stmt(`SELECT id FROM ${jobs} WHERE ${w.where} ORDER BY id DESC LIMIT ?`);
    const next = ctx.stmt(`SELECT id FROM ${jobs} WHERE ${w.where} AND id < ? ORDER BY id DESC LIMIT ?`);
    const pending = "('scheduled', 'available', 'retryable', 'waiting')";
    const final = "('completed', 'discarded', 'cancelled')";
    const act =
      action === "cancel"
        ? ctx.stmt(
            `UPDATE ${jobs} SET state = 'cancelled', finished_at = ? WHERE id = ? AND state IN ${pending} RETURNING batch_id AS note, has_dependents`,
          )
        : action === "retry"
          ? ctx.stmt(
              `UPDATE ${jobs}
                  SET state = 'available', attempt = 0, lost = 0, run_at = ?, finished_at = NULL, started_at = NULL,
                      worker_id = NULL, lease_token = NULL, lease_expires_at = NULL, cancel_requested = 0, result = NULL
                WHERE id = ? AND state IN ${final} RETURNING queue AS note`,
            )
          : ctx.stmt(
              `DELETE FROM ${jobs} WHERE id = ? AND state <> 'running' RETURNING NULL AS note, has_dependents AND state IN ${pending} AS has_dependents`,
            );
    let cursor: number | bigint | null = null;
    let count = 0;
    let skipped = 0;
    for (;;) {
      const wakeups: Wakeup[] = [];
      const seen = await ctx.write(() => {
        const ids = (
          cursor === null ? first.all(...w.args, batchSize) : next.all(...w.args, cursor, batchSize)
        ) as Row[];
        const now = ctx.now();
        const notes = new Set<string>();
        for (const r of ids) {
          const id = r["id"] as number | bigint;
          let done: Row | undefined;
          try {
            done = (action === "delete" ? act.get(id) : act.get(now, id)) as Row | undefined;
          } catch (err) {
            // A retry whose unique key another pending or running job holds is left alone.
            if (action === "retry" && /UNIQUE constraint failed/.test((err as Error).message)) {
              skipped++;
              continue;
            }
            throw err;
          }
          if (done === undefined) continue;
          count++;
          if (done["note"] !== null && done["note"] !== undefined) notes.add(String(done["note"]));
          if (action !== "retry") noteSettledParent(done, wakeups);
        }
        for (const note of notes)
          wakeups.push({ channel: action === "cancel" ? "batch" : "jobs", payload: note });
        return ids;
      });
      ctx.emit(wakeups);
      if (seen.length < batchSize) break;
      cursor = seen.at(-1)!["id"] as number | bigint;
    }
    return { count, skipped };
  }
}
