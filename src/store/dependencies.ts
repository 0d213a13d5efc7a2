import { TendError } from "../errors/index.ts";
import { isJobId } from "./args.ts";
import type { InsertResult, JobState, NewJob, ParentFailurePolicy } from "./job-model.ts";

/**
 * Job dependencies as both drivers insert them: which jobs of an insert call have parents, the
 * parents' ids, and the state a new dependent starts in. Pure; the drivers run the statements.
 * Once inserted, the rules that release or cancel dependents live in the database (the settle
 * triggers of the jobs migration 6), so that every path that finishes a job, in any process and
 * any version of tend, applies them.
 */

/** True when any job of an insert call has parents: the plain insert statements are left for the others. */
export function hasDependencies(jobs: readonly NewJob[]): boolean {
  for (const job of jobs) {
    if (job.after !== undefined || job.afterIndexes !== undefined) return true;
  }
  return false;
}

/** True when this job has parents. */
export function isDependent(job: NewJob): boolean {
  return (
    (job.after !== undefined && job.after.length > 0) ||
    (job.afterIndexes !== undefined && job.afterIndexes.length > 0)
  );
}

/**
 * The parent ids of job `n` of an insert call (distinct, in the order given): its `after` ids and
 * the ids of the earlier jobs of the call named by `afterIndexes`. Only earlier jobs can be named,
 * and `after` ids name rows that already exist, so a dependency can never close a cycle.
 * Throws TEND_E_INVALID_STORE_ARGUMENT for a malformed id or position.
 *
 * @example
 * ```ts
 * parentIdsOf(jobs[2]!, 2, results); // ["41", "57"]
 * ```
 */
export function parentIdsOf(
  job: NewJob,
  n: number,
  results: ReadonlyArray<InsertResult | undefined>,
): string[] {
  const ids = new Set<string>();
  for (const id of job.after ?? []) {
    if (!isJobId(id)) {
      throw new TendError("TEND_E_INVALID_STORE_ARGUMENT", `after: ${JSON.stringify(id)} is not a job id.`, {
        details: { job: n, id: String(id) },
      });
    }
    ids.add(id.replace(/^0+(?=\d)/, ""));
  }
  for (const i of job.afterIndexes ?? []) {
    const earlier = Number.isInteger(i) && i >= 0 && i < n ? results[i] : undefined;
    if (earlier === undefined) {
      throw new TendError(
        "TEND_E_INVALID_STORE_ARGUMENT",
        `afterIndexes of job ${n}: ${String(i)} is not the position of an earlier job of the same call.`,
        { details: { job: n, index: String(i) } },
      );
    }
    ids.add(earlier.id);
  }
  if (job.uniqueKey !== null) {
    throw new TendError(
      "TEND_E_INVALID_STORE_ARGUMENT",
      `Job ${n} has parents and a unique key; a job with parents cannot have a unique key.`,
      { details: { job: n, uniqueKey: job.uniqueKey } },
    );
  }
  return [...ids];
}

/**
 * The longest chain of waiting jobs a new job may join: when the chain's head fails, its
 * cancellation runs down the chain inside the statement that ends the head (a trigger per job),
 * and a chain much longer than this exhausts the database's trigger depth (SQLite: 1,000 nested
 * triggers, two per job; PostgreSQL: `max_stack_depth`), failing that statement, and with it every
 * rescue or outcome that includes the head.
 */
export const MAX_WAITING_CHAIN = 200;

/**
 * SQL of the depth of the longest chain of waiting jobs ending at the jobs whose ids are in `$1`
 * (an array parameter, `ids`: an SQL expression of a set of ids), 0 when none of them waits, up
 * to {@link MAX_WAITING_CHAIN} (the walk stops there). Both drivers (the recursive CTE is standard).
 */
export function waitingChainSql(jobs: string, deps: string, ids: string): string {
  return `WITH RECURSIVE up(id, depth) AS (
      SELECT j.id, 1 FROM ${jobs} j WHERE j.id IN (${ids}) AND j.state = 'waiting'
      UNION
      SELECT d.parent_id, up.depth + 1 FROM up JOIN ${deps} d ON d.job_id = up.id
        JOIN ${jobs} p ON p.id = d.parent_id
       WHERE p.state = 'waiting' AND up.depth < ${MAX_WAITING_CHAIN}
    )
    SELECT coalesce(max(depth), 0) AS depth FROM up`;
}

/** The error of a job that would wait behind a chain of {@link MAX_WAITING_CHAIN} waiting jobs. */
export function dependencyTooDeep(n: number, parents: readonly string[]): TendError {
  return new TendError(
    "TEND_E_JOB_DEPENDENCY_TOO_DEEP",
    `Job ${n} would wait behind a chain of ${MAX_WAITING_CHAIN} or more jobs that are themselves waiting for their parents (after ${parents.join(", ")}); a longer chain could not be cancelled in one go when its head fails. Nothing was enqueued. For a long sequence of jobs, use a concurrency key with concurrencyLimit: 1 instead of chaining each job after the previous one.`,
    { details: { job: n, parents: [...parents], max: MAX_WAITING_CHAIN } },
  );
}

/** The error of a dependency on ids that name no job. */
export function parentsNotFound(missing: readonly string[]): TendError {
  return new TendError(
    "TEND_E_JOB_PARENT_NOT_FOUND",
    `Cannot enqueue a job to run after ${missing.length === 1 ? "job" : "jobs"} ${missing.join(", ")}: no such job. Nothing was enqueued.`,
    { details: { missing: [...missing] } },
  );
}

/** How a new dependent starts, given its parents' current states. */
export type DependentStart =
  { state: "ready" } | { state: "waiting" } | { state: "cancelled"; reason: string };

/**
 * Pure: the start of a new job whose parents are in `parents` (id to state): `ready` (runnable by
 * its runAt) when every parent completed, or with `run` every parent finished; `cancelled` with
 * `cancel` when a parent was already discarded or cancelled; else `waiting`.
 *
 * @example
 * ```ts
 * dependentStart(new Map([["1", "completed"], ["2", "running"]]), "cancel"); // { state: "waiting" }
 * ```
 */
export function dependentStart(
  parents: ReadonlyMap<string, JobState>,
  policy: ParentFailurePolicy,
): DependentStart {
  let open = false;
  for (const [id, state] of parents) {
    if (state === "completed") continue;
    if (state === "discarded" || state === "cancelled") {
      if (policy === "cancel") return { state: "cancelled", reason: `parent job ${id} was ${state}` };
      continue;
    }
    open = true;
  }
  return open ? { state: "waiting" } : { state: "ready" };
}
