import type { JobDependencies, JobError, JobState, Json } from "../store/index.ts";

/** The outcome of one job that a job ran after (see `ctx.afterResults()`). */
export interface AfterResult {
  id: string;
  /** Null when that job no longer exists (pruned or deleted). */
  kind: string | null;
  /** Null when that job no longer exists (pruned or deleted). */
  state: JobState | null;
  /** True when it completed. */
  ok: boolean;
  /** Its handler's result (completed jobs), else null. */
  result: Json | null;
  /** Its last recorded error (discarded or cancelled jobs), else null. */
  error: JobError | null;
}

/**
 * Pure: the outcomes of a job's parents, ordered by id, as `ctx.afterResults()` gives them.
 *
 * @example
 * ```ts
 * toAfterResults(await store.jobs.dependencies(id)).map((r) => r.result);
 * ```
 */
export function toAfterResults(deps: JobDependencies): AfterResult[] {
  return deps.parents.map((p) => ({
    id: p.id,
    kind: p.kind,
    state: p.state,
    ok: p.state === "completed",
    result: p.state === "completed" ? p.result : null,
    error: p.state === "completed" ? null : p.error,
  }));
}
