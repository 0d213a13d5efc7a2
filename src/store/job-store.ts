import type { CronEntryDefinition, CronEntryState, CronOverlap, CronTickResult } from "./cron-model.ts";
import type {
  BatchProgress,
  ClaimedJob,
  ClaimRequest,
  Completion,
  Failure,
  HeartbeatResult,
  InsertResult,
  JobDependencies,
  JobRecord,
  LeaseRef,
  ListFilter,
  NewJob,
  QueueSetting,
  ProgressUpdate,
  QueueStats,
  RescuedJob,
  SnoozeRequest,
} from "./job-model.ts";

/**
 * A transaction handle owned by the caller, used to enqueue inside the caller's own transaction:
 * on PostgreSQL a `pg` client (anything with `query(text, values)`) inside `BEGIN`; on SQLite a
 * `node:sqlite` `DatabaseSync` inside `BEGIN`. The job exists if and only if that transaction commits.
 */
export type CallerTransaction = unknown;

/** Storage of jobs. Every method is one round trip (or one SQLite transaction) unless noted. */
export interface JobStore {
  /**
   * Inserts jobs. With `tx`, runs on the caller's handle and does not commit; otherwise in one
   * transaction of the store's own. Results are in input order. A job whose unique key is held by a
   * scheduled/available/running/retryable job is not inserted; its result carries that job's id.
   */
  insert(jobs: readonly NewJob[], tx?: CallerTransaction): Promise<InsertResult[]>;

  /**
   * Atomically claims up to `limit` runnable jobs of a queue (available, or scheduled/retryable
   * with runAt <= now, and not cancel-requested), ordered by priority ascending, then runAt, then
   * id; sets them running with a fresh lease token, increments attempt, sets workerId and
   * leaseExpiresAt = now + leaseMs, and startedAt for the first `request.start` of them (all by
   * default); the others are claimed ahead (startedAt null) until `markStarted`. No two claims
   * ever return the same attempt.
   */
  claim(request: ClaimRequest): Promise<ClaimedJob[]>;

  /**
   * Marks held jobs claimed ahead as started (startedAt = now), before their handlers run: from
   * then on a rescue counts the attempt as spent and the worker as lost. Fenced like complete;
   * returns the ids still held (already started ones included).
   */
  markStarted(leases: readonly LeaseRef[]): Promise<string[]>;

  /** Marks running jobs completed with their results. Fenced: a ref whose token no longer matches a running job is ignored. Returns the ids that were completed. */
  complete(completions: readonly Completion[]): Promise<string[]>;

  /** Records failures (appending to errors): retryable at retryAt, or discarded when retryAt is null. Fenced like complete. */
  fail(failures: readonly Failure[]): Promise<string[]>;

  /** Extends leases to now + leaseMs for refs still held; reports for each ref whether it is held and whether cancel was requested. */
  heartbeat(leases: readonly LeaseRef[], leaseMs: number): Promise<HeartbeatResult[]>;

  /** Returns held running jobs to available without spending the attempt (attempt - 1), clearing the lease (graceful stop). */
  release(leases: readonly LeaseRef[]): Promise<string[]>;

  /** Marks held running jobs cancelled (used after a cancel request aborted the handler). */
  markCancelled(leases: readonly LeaseRef[], reason: string): Promise<string[]>;

  /**
   * Rescues running jobs whose lease expired before now: each gets an error `lease expired`
   * (code TEND_E_LEASE_EXPIRED) recorded for its attempt and becomes retryable at now, or
   * discarded when attempt >= maxAttempts. A job claimed ahead and never started (startedAt
   * null) is returned to available as `release` does: its attempt is not spent, no error is
   * recorded and it does not count as lost; it is not listed in the result.
   */
  rescueExpired(): Promise<RescuedJob[]>;

  /** Same as rescueExpired but for every running job of one worker, regardless of lease (a supervisor saw the worker die). */
  rescueWorker(workerId: string, reason: string): Promise<RescuedJob[]>;

  /**
   * Cancels a job. Pending (scheduled/available/retryable): becomes cancelled at once. Running: sets
   * cancelRequested (its worker aborts the handler and marks it cancelled). Final: unchanged.
   * Returns the row after the change, or null if no such job.
   */
  cancel(id: string): Promise<JobRecord | null>;

  /** Makes a discarded or cancelled (or completed) job available again now, with attempt reset to 0 and maxAttempts kept. Null if no such job; a pending or running job is returned unchanged. */
  retry(id: string): Promise<JobRecord | null>;

  get(id: string): Promise<JobRecord | null>;
  list(filter: ListFilter): Promise<JobRecord[]>;

  /** Deletes completed, discarded and cancelled jobs finished before `olderThan`. At most `limit` per call. Returns the count deleted. */
  prune(olderThan: Date, limit: number): Promise<number>;

  /** Statistics per queue that has any non-final job or activity in the last minute. */
  stats(): Promise<QueueStats[]>;

  /**
   * Cron: records that tick `tickAt` of schedule `name` was enqueued and inserts `job`, both in one
   * transaction, only if that tick (or a later one) was not recorded before. Exactly once across
   * processes and machines. Returns true when this call enqueued it.
   */
  enqueueCronTick(name: string, tickAt: Date, job: NewJob): Promise<boolean>;

  /** The last recorded tick of a cron schedule, or null. */
  lastCronTick(name: string): Promise<Date | null>;

  /**
   * Pauses a queue: from the commit on, no claim (in any process) returns its jobs; jobs already
   * claimed are not touched. Notifies the `queues` channel with the queue's name. Idempotent:
   * pausing a paused queue keeps its `changedAt`.
   */
  pauseQueue(queue: string): Promise<QueueSetting>;

  /** Resumes a paused queue (idempotent); notifies the `queues` channel and wakes its workers (`jobs` channel). */
  resumeQueue(queue: string): Promise<QueueSetting>;

  /** The stored settings of every queue ever paused or resumed, by name. */
  listQueues(): Promise<QueueSetting[]>;

  /**
   * A job's parents and dependents (see NewJob.after), each ordered by id; both empty for a job
   * without dependencies (or no such job).
   */
  dependencies(id: string): Promise<JobDependencies>;

  /** Progress of a batch (jobs sharing batchId). */
  batchProgress(batchId: string): Promise<BatchProgress>;

  /** Every job of a batch, ordered by batchIndex. */
  batchJobs(batchId: string): Promise<JobRecord[]>;

  /**
   * Stores each update's progress (JSON text) on its job, fenced like complete. Durable like a
   * heartbeat (a crash may lose the latest value). Returns the ids written.
   */
  progress(updates: readonly ProgressUpdate[]): Promise<string[]>;

  /**
   * Puts held running jobs back to wait until each request's runAt (`scheduled`, or `available`
   * when that time has passed), without spending the attempt (attempt - 1) and clearing the
   * lease, as a handler's snooze asks. A job whose cancel was requested becomes cancelled
   * instead. Fenced like complete; returns the ids changed.
   */
  snooze(requests: readonly SnoozeRequest[]): Promise<string[]>;

  /**
   * Cron with an overlap policy and pause: in one transaction, records tick `tickAt` of `name`
   * unless that tick or a later one was recorded (`taken`), then enqueues `job` unless the entry
   * is paused (`paused`) or `overlap` is `skip` and the job of the last tick that enqueued one is
   * still scheduled, available, running or retryable (`skipped`, counted on the entry). Exactly
   * once across processes and machines.
   */
  cronTick(name: string, tickAt: Date, job: NewJob, overlap: CronOverlap): Promise<CronTickResult>;

  /** Registers cron entries as this process defines them (kind, expression, time zone, overlap), keeping their pause and history. */
  registerCron(entries: readonly CronEntryDefinition[]): Promise<void>;

  /** Every registered cron entry with its state, by name. */
  listCron(): Promise<CronEntryState[]>;

  /** Pauses or resumes a registered cron entry (for every process); false when no entry has that name. */
  setCronPaused(name: string, paused: boolean): Promise<boolean>;
}
