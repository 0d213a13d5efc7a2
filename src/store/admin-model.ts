/**
 * The records of operator actions taken over the admin API and dashboard: the audit trail, and
 * the storage interface (AdminStore) that keeps it and the actions that need a store method of
 * their own (deleting a job).
 */
import { invalidArgument } from "../errors/index.ts";
import type { ActivityOptions, JobActivity } from "./activity-model.ts";
import type { StateCountOptions, StateCounts } from "./state-counts.ts";
import { JOB_STATES, type JobRecord, type JobState } from "./job-model.ts";

/** One operator action to record. */
export interface NewAuditEntry {
  /** What was done, e.g. `job.retry`, `job.cancel`, `job.delete`, `job.enqueue`. */
  action: string;
  /** On what, e.g. `job:42`. */
  target: string;
  /** A short hash naming the token used (never the token itself), or null. */
  tokenId: string | null;
  /** How it ended: `ok`, or the error code. */
  outcome: string;
  /** A small JSON-encodable detail (the kind enqueued, the state after the action...). */
  detail?: Record<string, unknown>;
}

/** One recorded operator action. */
export interface AuditEntry {
  id: string;
  at: Date;
  action: string;
  target: string;
  tokenId: string | null;
  outcome: string;
  detail: Record<string, unknown>;
}

/** Which audit entries to list: newest first, keyset on id. */
export interface AuditFilter {
  /** Entries with an id below this (the next page). */
  beforeId?: string;
  /** Default 100, at most 1,000. */
  limit?: number;
}

/** The outcome of deleting one job. */
export interface DeleteOutcome {
  /** True when the row was deleted. */
  deleted: boolean;
  /** The job as it was (deleted) or is (kept: it is running), or null when there is no such job. */
  job: JobRecord | null;
}

/** What a bulk action does to every job a filter matches. */
export type BulkAction = "retry" | "cancel" | "delete";

/** The bulk actions. */
export const BULK_ACTIONS: readonly BulkAction[] = ["retry", "cancel", "delete"];

/** The jobs a bulk action acts on: the jobs list's filters (at least one). */
export interface BulkFilter {
  state?: JobState;
  queue?: string;
  kind?: string;
}

/** What a bulk action did. */
export interface BulkOutcome {
  /** Jobs acted on. */
  count: number;
  /** Jobs that matched but were left alone (a retry whose unique key another job holds). */
  skipped: number;
}

/**
 * Pure: the states a bulk action acts on, given the filter's state: retry takes final jobs
 * (completed, discarded, cancelled), cancel pending ones (scheduled, available, retryable: a
 * running job is cancelled on its own page, where its worker is asked to stop), delete every
 * job but running ones. Empty when the filter's state is not one the action takes.
 *
 * @example
 * ```ts
 * bulkStates("cancel", "scheduled"); // ["scheduled"]
 * bulkStates("retry", "scheduled"); // []
 * ```
 */
export function bulkStates(action: BulkAction, state?: JobState): JobState[] {
  if (!BULK_ACTIONS.includes(action))
    throw invalidArgument("TEND_E_INVALID_STORE_ARGUMENT", "bulk action", action, BULK_ACTIONS.join(", "));
  const takes: readonly JobState[] =
    action === "retry"
      ? ["completed", "discarded", "cancelled"]
      : action === "cancel"
        ? ["scheduled", "available", "retryable", "waiting"]
        : JOB_STATES.filter((s) => s !== "running");
  return state === undefined ? [...takes] : takes.filter((s) => s === state);
}

/**
 * Checks a bulk filter (TEND_E_INVALID_STORE_ARGUMENT): known keys, a known state, text queue
 * and kind, and at least one of them, so that no bulk action runs on every job by mistake.
 */
export function checkBulkFilter(filter: BulkFilter): BulkFilter {
  if (filter === null || typeof filter !== "object")
    throw invalidArgument("TEND_E_INVALID_STORE_ARGUMENT", "bulk filter", filter, "an object");
  const out: BulkFilter = {};
  if (filter.state !== undefined) {
    if (!JOB_STATES.includes(filter.state))
      throw invalidArgument("TEND_E_INVALID_STORE_ARGUMENT", "state", filter.state, JOB_STATES.join(", "));
    out.state = filter.state;
  }
  for (const key of ["queue", "kind"] as const) {
    const v = filter[key];
    if (v === undefined) continue;
    if (typeof v !== "string" || v === "")
      throw invalidArgument("TEND_E_INVALID_STORE_ARGUMENT", key, v, "a non-empty string");
    out[key] = v;
  }
  if (Object.keys(out).length === 0)
    throw invalidArgument(
      "TEND_E_INVALID_STORE_ARGUMENT",
      "bulk filter",
      filter,
      "at least one of state, queue, kind",
    );
  return out;
}

/**
 * Storage of the admin surface. One implementation per driver, in
 * src/store/<driver>/admin-store.ts.
 */
export interface AdminStore {
  /**
   * Deletes a job that is not running (a running job is left alone: cancel it first). Returns
   * what was deleted or kept.
   */
  deleteJob(id: string): Promise<DeleteOutcome>;
  /** Appends one entry to the audit trail (durable before it resolves). */
  recordAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Audit entries, newest first. */
  listAudit(filter: AuditFilter): Promise<AuditEntry[]>;
  /** How many jobs a bulk action would act on now (an exact count over the filter's index). */
  countBulk(action: BulkAction, filter: BulkFilter): Promise<number>;
  /**
   * Acts on every job the filter matches, newest first, in bounded batches of `batchSize`
   * (default 1,000), each its own transaction: a million rows never make one long transaction.
   * Jobs changed by workers meanwhile are taken or left by their state at their batch.
   */
  runBulk(action: BulkAction, filter: BulkFilter, options?: { batchSize?: number }): Promise<BulkOutcome>;
  /**
   * Enqueued and finished jobs per queue and per bucket (by default the last hour's minutes), read
   * from bounded index ranges: at most `maxRows` rows per series (see JobActivity).
   */
  activity(options?: ActivityOptions): Promise<JobActivity>;
  /**
   * The first job id created at or after `time` (found by bisection: ids grow with creation time),
   * the next id to be given when every job is older, or null for an empty table.
   */
  firstIdAt(time: Date): Promise<string | null>;
  /**
   * Jobs by queue and state over the whole table: exact on a small table, else estimated from at
   * most `sampleRows` rows in id windows spread over the table (see StateCounts).
   */
  stateCounts(options?: StateCountOptions): Promise<StateCounts>;
}
