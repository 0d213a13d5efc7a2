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
import type { CallerTransaction } from "../job-store.ts";
import { callerClient, type Queryable } from "./caller-tx.ts";
import { NOW_ISO, type PgContext } from "./context.ts";
import { columns } from "./insert-columns.ts";
import { inPooledTransaction } from "./pool.ts";

type PlainInsert = (
  ctx: PgContext,
  jobs: readonly NewJob[],
  tx: CallerTransaction,
) => Promise<InsertResult[]>;

/** The insert of one job with parents: $18 says how it starts ('ready', 'waiting' or 'cancelled'); $19 the reason. */
function dependentSql(ctx: PgContext): string {
  return `INSERT INTO ${ctx.jobs} (kind, queue, payload, priority, state, run_at, max_attempts, unique_key, batch_id, batch_index,
      max_lost, trace_context, concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period_ms, on_parent_failure,
      errors, finished_at)
    VALUES ($1, $2, $3::jsonb, $4,
      CASE WHEN $18::text = 'ready' THEN CASE WHEN $5::timestamptz > statement_timestamp() THEN 'scheduled' ELSE 'available' END
        ELSE $18::text END,
      $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
      CASE WHEN $18::text = 'cancelled' THEN jsonb_build_array(jsonb_build_object('attempt', 0, 'at', ${NOW_ISO},
        'message', $19::text, 'code', 'TEND_E_JOB_PARENT_FAILED')) ELSE '[]'::jsonb END,
      CASE WHEN $18::text = 'cancelled' THEN now() END)
    RETURNING id::text AS id`;
}

/**
 * Inserts jobs of which some have parents, in order, in one transaction (the caller's `tx`, or
 * one of a pooled connection): a job without parents goes through `plain`; a job with parents
 * first marks its parents (`has_dependents`, an update that locks them and returns their latest
 * committed states, so that a parent finishing meanwhile is either seen finished here or fires
 * the settle trigger after this commit), fails the whole call with TEND_E_JOB_PARENT_NOT_FOUND
 * when one does not exist, then starts as {@link dependentStart} says.
 *
 * @example
 * ```ts
 * const results = await insertWithDependencies(ctx, [parent, { ...child, afterIndexes: [0] }], undefined, insertJobs);
 * ```
 */
export async function insertWithDependencies(
  ctx: PgContext,
  jobs: readonly NewJob[],
  tx: CallerTransaction | undefined,
  plain: PlainInsert,
): Promise<InsertResult[]> {
  if (tx !== undefined) return insertAll(ctx, callerClient(tx), jobs, plain);
  return inPooledTransaction(ctx.pool, (client) => insertAll(ctx, client, jobs, plain));
}

async function insertAll(
  ctx: PgContext,
  client: Queryable,
  jobs: readonly NewJob[],
  plain: PlainInsert,
): Promise<InsertResult[]> {
  const results: InsertResult[] = [];
  for (let n = 0; n < jobs.length; n++) {
    const job = jobs[n]!;
    if (!isDependent(job)) {
      results.push((await plain(ctx, [job], client))[0]!);
      continue;
    }
    const parentIds = parentIdsOf(job, n, results);
    const ids = `{${parentIds.join(",")}}`;
    const marked = await client.query<{ id: string; state: JobState }>(
      `UPDATE ${ctx.jobs} SET has_dependents = true WHERE id = ANY($1::bigint[]) RETURNING id::text AS id, state`,
      [ids],
    );
    const found = new Map(marked.rows.map((r) => [r.id, r.state]));
    const missing = parentIds.filter((id) => !found.has(id));
    if (missing.length > 0) throw parentsNotFound(missing);
    const policy = job.onParentFailure ?? "cancel";
    const start = dependentStart(new Map(parentIds.map((id) => [id, found.get(id)!])), policy);
    // Only a parent that waits itself can put this job deeper than the first link of a chain.
    if (start.state === "waiting" && parentIds.some((id) => found.get(id) === "waiting")) {
      const chain = await client.query<{ depth: number }>(
        waitingChainSql(ctx.jobs, ctx.jobDeps, "SELECT unnest($1::bigint[])"),
        [ids],
      );
      if (Number(chain.rows[0]?.depth ?? 0) >= MAX_WAITING_CHAIN) throw dependencyTooDeep(n, parentIds);
    }
    const values = columns([job]).map((column) => (column as unknown[])[0]);
    const { rows } = await client.query<{ id: string }>(dependentSql(ctx), [
      ...values,
      policy,
      start.state,
      start.state === "cancelled" ? start.reason : null,
    ]);
    const id = rows[0]!.id;
    await client.query(
      `INSERT INTO ${ctx.jobDeps} (job_id, parent_id) SELECT $1::bigint, unnest($2::bigint[])`,
      [id, ids],
    );
    results.push({ id, inserted: true, outcome: "inserted" });
  }
  return results;
}

interface LinkRow {
  side: "parent" | "dependent";
  id: string;
  kind: string | null;
  state: JobState | null;
  result: Json | null;
  error: JobError | null;
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
export async function jobDependencies(ctx: PgContext, id: string): Promise<JobDependencies> {
  const deps = ctx.jobDeps;
  const cols =
    "j.kind, j.state, CASE WHEN j.state = 'completed' THEN j.result END AS result, j.errors -> -1 AS error";
  const { rows } = await ctx.run<LinkRow>(
    "dependencies",
    `SELECT * FROM (
       SELECT 'parent' AS side, d.parent_id::text AS id, ${cols}, d.parent_id AS ord
         FROM ${deps} d LEFT JOIN ${ctx.jobs} j ON j.id = d.parent_id WHERE d.job_id = $1
       UNION ALL
       SELECT 'dependent', d.job_id::text, ${cols}, d.job_id
         FROM ${deps} d JOIN ${ctx.jobs} j ON j.id = d.job_id WHERE d.parent_id = $1
     ) x ORDER BY side, ord`,
    [jobIdText(id)],
  );
  const link = (r: LinkRow): JobLink => ({
    id: r.id,
    kind: r.kind,
    state: r.state,
    result: r.result,
    error: r.error ?? null,
  });
  return {
    parents: rows.filter((r) => r.side === "parent").map(link),
    dependents: rows.filter((r) => r.side === "dependent").map(link),
  };
}
