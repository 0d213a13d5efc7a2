import type { JobState } from "./job-model.ts";

const ENDED: ReadonlySet<JobState> = new Set(["completed", "discarded", "cancelled"]);

/**
 * Pure: why an operator's retry or cancel of a job in `state` would change nothing, or null when
 * it acts: a retry acts on a job that ended (completed, discarded, cancelled), a cancel on one that
 * did not. The admin API answers such a request 409 and the CLI fails it, rather than report a
 * success that did nothing.
 *
 * @example
 * ```ts
 * noOpReason("retry", { id: "7", state: "available" }); // "job 7 is available: only a job that ended ..."
 * noOpReason("cancel", { id: "7", state: "running" }); // null
 * ```
 */
export function noOpReason(action: "retry" | "cancel", job: { id: string; state: JobState }): string | null {
  if (action === "retry")
    return ENDED.has(job.state)
      ? null
      : `job ${job.id} is ${job.state}: only a job that ended (completed, discarded or cancelled) is retried`;
  return ENDED.has(job.state)
    ? `job ${job.id} already ended (${job.state}): there is nothing to cancel`
    : null;
}
