import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { DEFAULT_MAX_LOST, type InsertResult, type NewJob } from "../job-model.ts";
import { hasDependencies } from "../dependencies.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import { insertWithDependencies } from "./dependencies.ts";
import type { Row } from "./rows.ts";

const PENDING = "('scheduled', 'available', 'running', 'retryable')";

/** Jobs per multi-row INSERT statement (18 parameters a row: 1,152, well under SQLite's limit). */
export const ROWS_PER_INSERT = 64;

const COLUMNS =
  "(kind, queue, payload, priority, state, run_at, max_attempts, unique_key, created_at, batch_id, batch_index, max_lost, trace_context, concurrency_key, concurrency_limit, " +
  "rate_key, rate_limit, rate_period_ms)";
const ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/**
 * Pure: the INSERT of `rows` jobs in one statement (the new ids are read from the statement's
 * last rowid, see insertJobs: a RETURNING clause cost about a third of the insert).
 *
 * @example
 * ```ts
 * insertSql('"tend_jobs"', 2); // INSERT INTO "tend_jobs" (...) VALUES (?, ...), (?, ...)
 * ```
 */
export function insertSql(table: string, rows: number): string {
  return `INSERT INTO ${table} ${COLUMNS} VALUES ${Array.from({ length: rows }, () => ROW).join(", ")}`;
}

/** The statement texts built so far, by table and row count (the same string each time: cheap cache lookups). */
const sqlTexts = new Map<string, string[]>();

function insertSqlOf(table: string, rows: number): string {
  let texts = sqlTexts.get(table);
  if (texts === undefined) {
    texts = [];
    sqlTexts.set(table, texts);
  }
  return (texts[rows] ??= insertSql(table, rows));
}

/**
 * Gives the pending holder `id` of a unique key the new job's payload, and for `debounce` its
 * runAt (a scheduled or available holder becomes whichever its new time makes it; a retryable one
 * stays retryable). Returns the holder's queue when it is runnable now (to wake its workers).
 */
function replaceHolder(
  ctx: SqliteContext,
  db: DatabaseSync,
  id: number,
  job: NewJob,
  mode: "debounce" | "throttle",
  now: number,
): string | null {
  const { jobs: table } = ctx.t;
  const row = (
    mode === "debounce"
      ? ctx
          .stmt(
            `UPDATE ${table} SET payload = ?1, run_at = ?2,
                 state = CASE WHEN state = 'retryable' THEN state WHEN ?2 > ?3 THEN 'scheduled' ELSE 'available' END
               WHERE id = ?4 RETURNING queue, state`,
            db,
          )
          .get(job.payload, job.runAt.getTime(), now, id)
      : ctx
          .stmt(`UPDATE ${table} SET payload = ?1 WHERE id = ?2 RETURNING queue, state`, db)
          .get(job.payload, id)
  ) as Row | undefined;
  return row !== undefined && row["state"] === "available" ? String(row["queue"]) : null;
}

/**
 * Inserts jobs on `db` (the store's connection inside its own transaction, or a caller's handle
 * inside the caller's transaction). A unique key held by a blocking job yields that job's id; the
 * check runs under the write lock, so duplicates inside one call see the first one; a `debounce`
 * or `throttle` job replaces a pending holder's payload (see replaceHolder). Jobs without
 * a unique key go in multi-row statements of up to ROWS_PER_INSERT rows (one call into SQLite for
 * many rows); their ids are consecutive, ending at the statement's last rowid, in the order the
 * rows were inserted in (SQLite gives each new row the largest rowid plus one).
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
  // Jobs with parents go one by one through the dependency path (dependencies.ts).
  if (hasDependencies(jobs)) return insertWithDependencies(ctx, db, jobs, insertJobs);
  const { jobs: table } = ctx.t;
  const findKey = ctx.stmt(`SELECT id, state FROM ${table} WHERE unique_key = ? AND state IN ${PENDING}`, db);
  const now = ctx.now();
  const results: InsertResult[] = new Array<InsertResult>(jobs.length);
  const queues = new Set<string>();
  // Parameters of the rows not yet inserted, and the result slots they fill.
  let args: SQLInputValue[] = [];
  let slots: number[] = [];
  const flush = (): void => {
    if (slots.length === 0) return;
    const { changes, lastInsertRowid } = ctx.stmt(insertSqlOf(table, slots.length), db).run(...args);
    // One statement's rows take consecutive rowids, in the order of its VALUES (each new row gets
    // the largest rowid so far plus one), so the last rowid and the count give every id.
    if (Number(changes) !== slots.length) throw new Error(`inserted ${changes} rows of ${slots.length}`);
    const first = Number(lastInsertRowid) - slots.length + 1;
    for (let i = 0; i < slots.length; i++) {
      results[slots[i]!] = { id: String(first + i), inserted: true, outcome: "inserted" };
    }
    args = [];
    slots = [];
  };
  for (let n = 0; n < jobs.length; n++) {
    const job = jobs[n]!;
    if (job.uniqueKey !== null) {
      // The rows before it first: a duplicate key inside this call must see them.
      flush();
      const held = findKey.get(job.uniqueKey) as Row | undefined;
      if (held !== undefined) {
        const mode = job.uniqueMode ?? "keep";
        if (mode === "keep" || held["state"] === "running") {
          results[n] = { id: String(held["id"]), inserted: false, outcome: "kept" };
        } else {
          const queue = replaceHolder(ctx, db, Number(held["id"]), job, mode, now);
          if (queue !== null) queues.add(queue);
          results[n] = { id: String(held["id"]), inserted: false, outcome: "replaced" };
        }
        continue;
      }
    }
    const runAt = job.runAt.getTime();
    const state = runAt > now ? "scheduled" : "available";
    args.push(
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
      job.concurrencyKey ?? null,
      job.concurrencyKey == null ? null : job.concurrencyLimit === undefined ? 1 : job.concurrencyLimit,
      // The rate key marks a rate-limited job; its window is counted per (queue, concurrency key).
      job.concurrencyKey == null || job.rateLimit == null ? null : job.concurrencyKey,
      job.concurrencyKey == null ? null : (job.rateLimit ?? null),
      job.concurrencyKey == null || job.rateLimit == null ? null : (job.ratePeriodMs ?? null),
    );
    slots.push(n);
    if (state === "available") queues.add(job.queue);
    if (job.uniqueKey !== null || slots.length === ROWS_PER_INSERT) flush();
  }
  flush();
  return { results, wakeups: [...queues].map((q) => ({ channel: "jobs", payload: q })) };
}
