/**
 * The records of operator actions taken over the admin API and dashboard: the audit trail, and
 * the storage interface (AdminStore) that keeps it and the actions that need a store method of
 * their own (deleting a job).
 */
import type { JobRecord } from "./job-model.ts";

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
}
