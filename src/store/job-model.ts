/**
 * The data model of a job: the records the job store's interface speaks in, owned by the store
 * and used by the jobs layer above it and by both drivers. Ids are strings (PostgreSQL bigint;
 * SQLite integer) so that both drivers look the same.
 */

/**
 * Lifecycle states. `scheduled` and `retryable` jobs become runnable once `runAt` has passed;
 * `waiting` jobs wait for their parent jobs (see {@link NewJob.after}) and are never claimed.
 */
export type JobState =
  "scheduled" | "available" | "running" | "completed" | "retryable" | "discarded" | "cancelled" | "waiting";

export const JOB_STATES: readonly JobState[] = [
  "scheduled",
  "available",
  "running",
  "completed",
  "retryable",
  "discarded",
  "cancelled",
  "waiting",
];

/** States in which a unique key blocks another insert with the same key. */
export const UNIQUE_BLOCKING_STATES: readonly JobState[] = ["scheduled", "available", "running", "retryable"];

/** JSON value as stored in payloads and results. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One recorded failure of one attempt. */
export interface JobError {
  attempt: number;
  /** ISO-8601 time of the failure. */
  at: string;
  message: string;
  stack?: string;
  /** A TendError code when tend itself failed the attempt (unknown kind, bad payload, lease expired, timeout). */
  code?: string;
}

/** A job to insert, fully defaulted and validated by the jobs layer. */
export interface NewJob {
  kind: string;
  queue: string;
  /** Already JSON-encoded payload text (validated for size by the jobs layer). */
  payload: string;
  priority: number;
  /** When the job may first run. A time in the future makes it `scheduled`. */
  runAt: Date;
  maxAttempts: number;
  uniqueKey: string | null;
  /**
   * What an insert does when a pending or running job holds `uniqueKey` (see {@link UniqueMode});
   * absent: `keep`.
   */
  uniqueMode?: UniqueMode;
  batchId: string | null;
  batchIndex: number | null;
  /**
   * Attempts that may end with the job's worker lost or hung (died, killed for a hang, lease
   * lapsed) before the job is discarded as poisoned (TEND_E_JOB_POISONED). Default 3.
   */
  maxLost?: number;
  /**
   * The W3C trace context (`traceparent`, and `tracestate` after a space when present) of the
   * span that enqueued the job, so that each attempt's span links to it. Null or absent: none.
   */
  traceContext?: string | null;
  /**
   * The job's concurrency key: at most `concurrencyLimit` running jobs of one (queue, key) at once,
   * across every process, and keys are served round-robin. Null or absent: no key.
   */
  concurrencyKey?: string | null;
  /** Jobs of the key that may run at once (with a key; default 1; null: no limit, only a rate limit). */
  concurrencyLimit?: number | null;
  /** With a key: at most this many of the key's jobs start per `ratePeriodMs` window. */
  rateLimit?: number | null;
  /** The rate limit's window in ms. */
  ratePeriodMs?: number | null;
  /**
   * Ids of existing jobs this job runs after (its parents): it waits (`waiting`) until every
   * parent completed. A job with parents has no unique key. See docs/jobs.md, "Dependencies".
   */
  after?: readonly string[];
  /** Positions of earlier jobs of the same insert call this job runs after (a flow's children). */
  afterIndexes?: readonly number[];
  /** With parents: what a discarded, cancelled or deleted parent does to this job (default `cancel`). */
  onParentFailure?: ParentFailurePolicy;
}

/**
 * What a job with parents does when a parent is discarded, cancelled or deleted before it
 * completed: `cancel` (the default) cancels it (and, in turn, its own dependents) with the reason
 * recorded (TEND_E_JOB_PARENT_FAILED); `run` runs it anyway once every parent has finished.
 */
export type ParentFailurePolicy = "cancel" | "run";

export const PARENT_FAILURE_POLICIES: readonly ParentFailurePolicy[] = ["cancel", "run"];

/** One end of a dependency, as `JobStore.dependencies` reports it. */
export interface JobLink {
  id: string;
  /** Null when the job no longer exists (pruned or deleted). */
  kind: string | null;
  /** Null when the job no longer exists (pruned or deleted). */
  state: JobState | null;
  /** Its result when completed, else null. */
  result: Json | null;
  /** Its last recorded error, or null. */
  error: JobError | null;
}

/** A job's parents (the jobs it runs after) and dependents (the jobs that run after it), by id. */
export interface JobDependencies {
  parents: JobLink[];
  dependents: JobLink[];
}

/** Lost or hung attempts after which a job is discarded as poisoned, unless its kind or the app says otherwise. */
export const DEFAULT_MAX_LOST = 3;

/**
 * What an insert does when its unique key is held by a job:
 * - `keep`: nothing; the holder stays as it is (the default);
 * - `debounce`: a pending holder (scheduled, available, retryable) takes the new payload and the
 *   new job's runAt (its run is pushed out);
 * - `throttle`: a pending holder takes the new payload and keeps its runAt.
 * A running holder is always kept (its handler already read its payload).
 */
export type UniqueMode = "keep" | "debounce" | "throttle";

export const UNIQUE_MODES: readonly UniqueMode[] = ["keep", "debounce", "throttle"];

/** What an insert did: inserted a row, kept the holder of its unique key, or replaced the holder's payload (and runAt). */
export type InsertOutcome = "inserted" | "kept" | "replaced";

/** Result of inserting one NewJob: its id (the holder's when not inserted), whether a row was inserted, and what happened. */
export interface InsertResult {
  id: string;
  inserted: boolean;
  outcome: InsertOutcome;
}

/**
 * A full job row.
 *
 * Read from a row that something other than tend corrupted, both drivers give the same shapes: a
 * stored time no Date can hold (PostgreSQL's `infinity` or `-infinity`, an SQLite value that names
 * no time or milliseconds beyond Date's range) reads as an invalid Date (`getTime()` is NaN, JSON
 * null); `errors` holds the stored entries as they are, which then need not be JobErrors. The CLI
 * and the dashboard show such a time as `(invalid time)` and such an entry as a malformed error
 * entry.
 */
export interface JobRecord {
  id: string;
  kind: string;
  queue: string;
  payload: Json;
  priority: number;
  state: JobState;
  runAt: Date;
  /** Attempts started so far (the running attempt included). */
  attempt: number;
  maxAttempts: number;
  /** Attempts that ended with the job's worker lost or hung (since the last retry). */
  lost: number;
  /** At this many lost attempts the job is discarded as poisoned. */
  maxLost: number;
  uniqueKey: string | null;
  errors: JobError[];
  result: Json | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  workerId: string | null;
  leaseToken: string | null;
  leaseExpiresAt: Date | null;
  cancelRequested: boolean;
  batchId: string | null;
  batchIndex: number | null;
  /** The last progress a handler reported (`ctx.progress`), or null. */
  progress: Json | null;
  /** The job's concurrency key (set at enqueue), or null. */
  concurrencyKey?: string | null;
  /** How many jobs of its key may run at once (null: no concurrency limit). */
  concurrencyLimit?: number | null;
  /** The job's rate limit: at most `limit` starts of its key per `periodMs` window, or null. */
  rateLimit?: { limit: number; periodMs: number } | null;
}

/** Identifies one attempt's hold on a running job; every write by a worker is fenced by it. */
export interface LeaseRef {
  id: string;
  leaseToken: string;
}

/** A job handed to a worker by `claim`. */
export interface ClaimedJob {
  id: string;
  kind: string;
  queue: string;
  payload: Json;
  attempt: number;
  maxAttempts: number;
  leaseToken: string;
  /**
   * True when the claim marked the job started (startedAt set): its handler may run at once.
   * False for a job claimed ahead: it must be marked started (`markStarted`) before its handler
   * runs, and until then a rescue returns it without spending its attempt.
   */
  started: boolean;
  /**
   * A rescue returned this job, claimed ahead and never started, from a lost worker before: its
   * handler may be what blocked that worker before its start was recorded. The worker starts such
   * a job carefully (its handler runs only once its start mark, and the worker's writes before
   * it, are durable), so that a handler that blocks its worker again counts toward maxLost.
   */
  suspect?: boolean;
  /**
   * Why the stored payload could not be read (a row changed outside tend, on SQLite, where the
   * payload is text): the attempt then fails with TEND_E_INVALID_PAYLOAD without running.
   */
  payloadError?: string;
  /** When the job was due (for the schedule-to-start time). */
  runAt: Date;
  /** The enqueuer's trace context (see {@link NewJob.traceContext}), or null. */
  traceContext: string | null;
  /**
   * The job's concurrency key, when it has one: its end frees a slot of the key, so its worker
   * claims again at once rather than waiting for a notification.
   */
  concurrencyKey?: string | null;
  /**
   * The window of the job's rate limit in ms, when it has one: its worker polls the queue again
   * as the next window opens rather than a poll interval after its last claim.
   */
  ratePeriodMs?: number | null;
  /**
   * The job's queue has limits of its own: its end frees a slot of the queue, so its worker
   * claims again at once.
   */
  capped?: boolean;
}

export interface ClaimRequest {
  queue: string;
  /** Claim at most this many. */
  limit: number;
  workerId: string;
  leaseMs: number;
  /**
   * How many of the claimed jobs (the first, in claim order) start at once; the others are
   * claimed ahead: held, but not started until `markStarted`. Default: all of them.
   */
  start?: number;
}

export interface Completion extends LeaseRef {
  /** JSON-encoded result text or null. */
  result: string | null;
}

export interface Failure extends LeaseRef {
  error: JobError;
  /** When to retry; null means discard (attempts exhausted or not retryable). */
  retryAt: Date | null;
}

export interface HeartbeatResult {
  id: string;
  /** False when the lease is no longer held (rescued, cancelled, completed elsewhere): stop writing. */
  held: boolean;
  /** True when someone asked to cancel this job: abort the handler. */
  cancelRequested: boolean;
  /**
   * False when the lease is held but was not extended this time, as another transaction held the
   * job's row (PostgreSQL: a caller's transaction that enqueued a dependent of it, uncommitted):
   * renew it again soon. Absent or true otherwise.
   */
  renewed?: boolean;
}

export interface ListFilter {
  queue?: string;
  kind?: string;
  state?: JobState;
  batchId?: string;
  /** Default 100, at most 10,000. */
  limit?: number;
  /** Return jobs with id less than this (pagination, newest first). */
  beforeId?: string;
  /** Return jobs with id at least this: a bounded window of ids, so that a sparse filter scans a bounded range. */
  fromId?: string;
  /** Return jobs created at or after this time. */
  createdFrom?: Date;
  /** Return jobs created before this time. */
  createdBefore?: Date;
  /** Return jobs whose payload or errors hold this text (a substring; ASCII letters in either case; 1 to 200 characters). */
  text?: string;
  /** Return jobs whose errors hold this text (as `text`, but never searching payloads). */
  errorText?: string;
}

/** Per-queue statistics, read from the store (never from a worker's memory). */
export interface QueueStats {
  queue: string;
  /** Runnable now: available, plus scheduled/retryable whose time has come. */
  available: number;
  running: number;
  /** Scheduled for later. */
  scheduled: number;
  /** Failed, waiting for their retry time. */
  retryable: number;
  /** Waiting for the jobs they run after (see NewJob.after); never claimed until released. */
  waiting: number;
  /** Jobs enqueued per second over the last 60 s. */
  enqueuedPerSec: number;
  /** Jobs completed per second over the last 60 s. */
  completedPerSec: number;
  /** Age in ms of the oldest runnable job (0 when none). */
  oldestAvailableAgeMs: number;
}

/** Statistics of a queue with nothing in it (the starting point of counts and sums). */
export function emptyQueueStats(queue: string): QueueStats {
  return {
    queue,
    available: 0,
    running: 0,
    scheduled: 0,
    retryable: 0,
    waiting: 0,
    enqueuedPerSec: 0,
    completedPerSec: 0,
    oldestAvailableAgeMs: 0,
  };
}

/** The stored settings of one queue (a queue without a row is not paused). */
export interface QueueSetting {
  queue: string;
  /** No worker claims from a paused queue; jobs already running finish. */
  paused: boolean;
  /** When `paused` last changed. */
  changedAt: Date;
  /** At most this many of the queue's jobs run at once, across every process (null: no limit). */
  concurrencyLimit: number | null;
  /** At most `limit` of the queue's jobs start per `periodMs` window (null: no limit). */
  rateLimit: { limit: number; periodMs: number } | null;
}

/**
 * A change of a queue's limits: a field given is set (null clears it), a field left out is kept.
 * Values are checked by the store (TEND_E_INVALID_QUEUE_LIMITS).
 */
export interface QueueLimitsChange {
  /** 1-10,000 running jobs of the queue at once, or null for none. */
  concurrency?: number | null;
  /** 1-1,000,000 starts per window of 1 ms to 24 h, or null for none. */
  rate?: { limit: number; periodMs: number } | null;
}

/** One job rescued from a lapsed lease. */
export interface RescuedJob {
  id: string;
  kind: string;
  queue: string;
  attempt: number;
  /** `retryable` (will run again) or `discarded` (attempts exhausted, or poisoned). */
  state: "retryable" | "discarded";
  /** Discarded because its worker was lost or hung `maxLost` times (TEND_E_JOB_POISONED). */
  poisoned: boolean;
}

export interface BatchProgress {
  batchId: string;
  total: number;
  /** Jobs in a final state: completed, discarded or cancelled. */
  finished: number;
}

/** A progress value to store on a held running job (see JobStore.progress). */
export interface ProgressUpdate extends LeaseRef {
  /** JSON-encoded progress text (validated for size by the jobs layer). */
  progress: string;
}

/** A held running job to put back to wait, without spending its attempt (see JobStore.snooze). */
export interface SnoozeRequest extends LeaseRef {
  /** When the job may run again. */
  runAt: Date;
}
