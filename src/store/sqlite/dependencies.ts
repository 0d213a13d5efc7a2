import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { jobIdText } from "../args.ts";
import {
  dependencyTooDeep,
  dependentStart,
  isDependent,
  MAX_WAITING_CHAIN,
  parentIdsOf,
  parentsNotFound,
  waitingChainSql,
} from "../dependencies.ts";
import type {
  InsertResult,
  JobDependencies,
  JobError,
  JobLink,
  JobState,
  Json,
  NewJob,
} from "../job-model.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import { pushRowValues } from "./job-row.ts";
import type { Row } from "./rows.ts";

type PlainInsert = (
  ctx: SqliteContext,
  db: DatabaseSync,
  jobs: readonly NewJob[],
) => { results: InsertResult[]; wakeups: Wakeup[] };

const COLUMNS =
  "(kind, queue, payload, priority, state, run_at, max_attempts, unique_key, created_at, batch_id, batch_index, max_lost, trace_context, concurrency_key, concurrency_limit, " +
  "rate_key, rate_limit, rate_period_ms, on_parent_failure, errors, finished_at)";

/**
 * Inserts jobs of which some have parents, in order, on `db` (inside the caller's or the store's
 * transaction): a job without parents goes through `plain`; a job with parents first marks its
 * parents (`has_dependents`, which also reads their states under the write lock), fails the whole
 * call with TEND_E_JOB_PARENT_NOT_FOUND when one does not exist, then starts as
 * {@link dependentStart} says: runnable, `waiting`, or `cancelled` with the reason recorded.
 *
 * @example
 * ```ts
 * const { results } = insertWithDependencies(ctx, ctx.db, [parent, { ...child, afterIndexes: [0] }], insertJobs);
 * ```
 */
export function insertWithDependencies(
  ctx: SqliteContext,
  db: DatabaseSync,
  jobs: readonly NewJob[],
  plain: PlainInsert,
): { results: InsertResult[]; wakeups: Wakeup[] } {
  const { jobs: table, jobDeps: deps } = ctx.t;
  const mark = ctx.stmt(
    `UPDATE ${table} SET has_dependents = 1 WHERE id IN (SELECT value FROM json_each(?)) RETURNING id, state`,
    db,
  );
  const insert = ctx.stmt(`INSERT INTO ${table} ${COLUMNS} VALUES (${"?, ".repeat(20)}?) RETURNING id`, db);
  const link = ctx.stmt(`INSERT INTO ${deps} (job_id, parent_id) SELECT ?, value FROM json_each(?)`, db);
  const chain = ctx.stmt(waitingChainSql(table, deps, "SELECT value FROM json_each(?)"), db);
  const results: InsertResult[] = [];
  const wakeups: Wakeup[] = [];
  const now = ctx.now();
  for (let n = 0; n < jobs.length; n++) {
    const job = jobs[n]!;
    if (!isDependent(job)) {
      const one = plain(ctx, db, [job]);
      results.push(one.results[0]!);
      wakeups.push(...one.wakeups);
      continue;
    }
    const parentIds = parentIdsOf(job, n, results);
    const rowIds = parentIds.map((id) => (/^[0-9]{1,15}$/.test(id) ? Number(id) : -1));
    const found = new Map<string, JobState>();
    for (const row of mark.all(JSON.stringify(rowIds)) as Row[])
      found.set(String(row["id"]), row["state"] as JobState);
    const missing = parentIds.filter((id) => !found.has(id));
    if (missing.length > 0) throw parentsNotFound(missing);
    const policy = job.onParentFailure ?? "cancel";
    const start = dependentStart(new Map(parentIds.map((id) => [id, found.get(id)!])), policy);
    // Only a parent that waits itself can put this job deeper than the first link of a chain.
    if (start.state === "waiting" && parentIds.some((id) => found.get(id) === "waiting")) {
      const depth = Number((chain.get(JSON.stringify(rowIds)) as Row | undefined)?.["depth"] ?? 0);
      if (depth >= MAX_WAITING_CHAIN) throw dependencyTooDeep(n, parentIds);
    }
    const runAt = job.runAt.getTime();
    const state = start.state === "ready" ? (runAt > now ? "scheduled" : "available") : start.state;
    const errors: JobError[] =
      start.state === "cancelled"
        ? [
            {
              attempt: 0,
              at: new Date(now).toISOString(),
              message: start.reason,
              code: "TEND_E_JOB_PARENT_FAILED",
            },
          ]
        : [];
    const values: SQLInputValue[] = [];
    pushRowValues(values, job, state, now);
    values.push(policy, JSON.stringify(errors), state === "cancelled" ? now : null);
    const row = insert.get(...values) as Row;
    const id = String(row["id"]);
    link.run(Number(id), JSON.stringify(rowIds));
    results.push({ id, inserted: true, outcome: "inserted" });
    if (state === "available") wakeups.push({ channel: "jobs", payload: job.queue });
    if (state === "cancelled" && job.batchId !== null)
      wakeups.push({ channel: "batch", payload: job.batchId });
  }
  return { results, wakeups };
}

function parseJson(text: unknown): Json {
  if (typeof text !== "string") return null;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return null;
  }
}

function toLink(row: Row): JobLink {
  const exists = row["kind"] !== null;
  return {
    id: String(row["id"]),
    kind: exists ? String(row["kind"]) : null,
    state: exists ? (row["state"] as JobState) : null,
    result: row["state"] === "completed" ? parseJson(row["result"]) : null,
    error: parseJson(row["error"]) as unknown as JobError | null,
  };
}

/**
 * A job's parents and dependents (see JobStore.dependencies), each by id; a parent that no
 * longer exists is listed with a null kind and state.
 *
 * @example
 * ```ts
 * const { parents, dependents } = await jobDependencies(ctx, "42");
 * ```
 */
export async function jobDependencies(ctx: SqliteContext, id: string): Promise<JobDependencies> {
  const rowId = Number(jobIdText(id));
  const { jobs: table, jobDeps: deps } = ctx.t;
  const cols = "j.kind, j.state, j.result, json_extract(j.errors, '$[#-1]') AS error";
  const parents = ctx.stmt(
    `SELECT d.parent_id AS id, ${cols} FROM ${deps} d LEFT JOIN ${table} j ON j.id = d.parent_id
      WHERE d.job_id = ? ORDER BY d.parent_id`,
  );
  const dependents = ctx.stmt(
    `SELECT d.job_id AS id, ${cols} FROM ${deps} d JOIN ${table} j ON j.id = d.job_id
      WHERE d.parent_id = ? ORDER BY d.job_id`,
  );
  return {
    parents: (parents.all(rowId) as Row[]).map(toLink),
    dependents: (dependents.all(rowId) as Row[]).map(toLink),
  };
}
