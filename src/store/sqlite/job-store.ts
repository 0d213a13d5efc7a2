import type { DatabaseSync } from "node:sqlite";
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
} from "../job-model.ts";
import type { CronEntryDefinition, CronEntryState, CronOverlap, CronTickResult } from "../cron-model.ts";
import type { CallerTransaction, JobStore } from "../job-store.ts";
import { batchJobs, batchProgress, cancelJob, getJob, listJobs, pruneJobs, retryJob } from "./admin.ts";
import { assertCallerTransaction } from "./caller-tx.ts";
import type { SqliteContext } from "./context.ts";
import { cronTick, enqueueCronTick, lastCronTick, listCron, registerCron, setCronPaused } from "./cron.ts";
import { jobDependencies } from "./dependencies.ts";
import { insertJobs } from "./insert.ts";
import {
  claimJobs,
  completeJobs,
  failJobs,
  heartbeatJobs,
  markCancelledJobs,
  markStartedJobs,
  releaseJobs,
} from "./leases.ts";
import type { SqliteNotifier } from "./notifier.ts";
import { listQueueSettings, setQueuePaused } from "./queues.ts";
import { progressJobs } from "./progress.ts";
import { snoozeJobs } from "./snooze.ts";
import { rescueExpiredJobs, rescueWorkerJobs } from "./rescue.ts";
import { queueStats } from "./stats.ts";

/**
 * The JobStore over one SQLite connection. Every write runs in its own `BEGIN IMMEDIATE`
 * transaction (or the caller's, for `insert(jobs, tx)`); statements are prepared once.
 *
 * @example
 * ```ts
 * const jobs = new SqliteJobStore(ctx, realPath, notifier);
 * const claimed = await jobs.claim({ queue: "default", limit: 10, workerId: "w1", leaseMs: 30_000 });
 * ```
 */
export class SqliteJobStore implements JobStore {
  readonly #ctx: SqliteContext;
  readonly #realPath: string;
  readonly #notifier: SqliteNotifier;

  constructor(ctx: SqliteContext, realPath: string, notifier: SqliteNotifier) {
    this.#ctx = ctx;
    this.#realPath = realPath;
    this.#notifier = notifier;
  }

  async insert(jobs: readonly NewJob[], tx?: CallerTransaction): Promise<InsertResult[]> {
    const ctx = this.#ctx;
    if (tx !== undefined) return this.#insertInCallerTransaction(jobs, tx);
    if (jobs.length === 0) return [];
    const { results, wakeups } = await ctx.write(() => insertJobs(ctx, ctx.db, jobs));
    ctx.emit(wakeups);
    return results;
  }

  #insertInCallerTransaction(jobs: readonly NewJob[], tx: CallerTransaction): InsertResult[] {
    const ctx = this.#ctx;
    const db: DatabaseSync = assertCallerTransaction(tx, this.#realPath);
    if (jobs.length === 0) return [];
    const { results, wakeups } = insertJobs(ctx, db, jobs);
    // The caller's handle now holds the write lock until it commits: our own writes wait for that.
    if (db !== ctx.db) ctx.deferWritesWhile(() => db.isOpen && db.isTransaction);
    const firstId = results.find((r) => r.inserted)?.id;
    if (firstId !== undefined && wakeups.length > 0 && this.#notifier.hasListeners("jobs")) {
      // Announce the jobs once the caller's transaction ended, if it committed (the row exists).
      const probe = ctx.stmt(`SELECT 1 AS found FROM ${ctx.t.jobs} WHERE id = ?`);
      this.#notifier.watch(() => {
        if (!db.isOpen) return true;
        if (db.isTransaction) return false;
        if (probe.get(Number(firstId)) !== undefined) ctx.emit(wakeups);
        return true;
      });
    }
    return results;
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    return claimJobs(this.#ctx, request);
  }

  async complete(completions: readonly Completion[]): Promise<string[]> {
    return completions.length === 0 ? [] : completeJobs(this.#ctx, completions);
  }

  async fail(failures: readonly Failure[]): Promise<string[]> {
    return failures.length === 0 ? [] : failJobs(this.#ctx, failures);
  }

  async heartbeat(leases: readonly LeaseRef[], leaseMs: number): Promise<HeartbeatResult[]> {
    return heartbeatJobs(this.#ctx, leases, leaseMs);
  }

  async release(leases: readonly LeaseRef[]): Promise<string[]> {
    return leases.length === 0 ? [] : releaseJobs(this.#ctx, leases);
  }

  async markCancelled(leases: readonly LeaseRef[], reason: string): Promise<string[]> {
    return leases.length === 0 ? [] : markCancelledJobs(this.#ctx, leases, reason);
  }

  async markStarted(leases: readonly LeaseRef[]): Promise<string[]> {
    return markStartedJobs(this.#ctx, leases);
  }

  async rescueExpired(): Promise<RescuedJob[]> {
    return rescueExpiredJobs(this.#ctx);
  }

  async rescueWorker(workerId: string, reason: string): Promise<RescuedJob[]> {
    return rescueWorkerJobs(this.#ctx, workerId, reason);
  }

  async cancel(id: string): Promise<JobRecord | null> {
    return cancelJob(this.#ctx, id);
  }

  async retry(id: string): Promise<JobRecord | null> {
    return retryJob(this.#ctx, id);
  }

  async get(id: string): Promise<JobRecord | null> {
    return getJob(this.#ctx, id);
  }

  async list(filter: ListFilter): Promise<JobRecord[]> {
    return listJobs(this.#ctx, filter);
  }

  async prune(olderThan: Date, limit: number): Promise<number> {
    return pruneJobs(this.#ctx, olderThan, limit);
  }

  async stats(): Promise<QueueStats[]> {
    return queueStats(this.#ctx);
  }

  async enqueueCronTick(name: string, tickAt: Date, job: NewJob): Promise<boolean> {
    return enqueueCronTick(this.#ctx, name, tickAt, job);
  }

  async lastCronTick(name: string): Promise<Date | null> {
    return lastCronTick(this.#ctx, name);
  }

  async pauseQueue(queue: string): Promise<QueueSetting> {
    return setQueuePaused(this.#ctx, queue, true);
  }

  async resumeQueue(queue: string): Promise<QueueSetting> {
    return setQueuePaused(this.#ctx, queue, false);
  }

  async listQueues(): Promise<QueueSetting[]> {
    return listQueueSettings(this.#ctx);
  }

  async dependencies(id: string): Promise<JobDependencies> {
    return jobDependencies(this.#ctx, id);
  }

  async batchProgress(batchId: string): Promise<BatchProgress> {
    return batchProgress(this.#ctx, batchId);
  }

  async batchJobs(batchId: string): Promise<JobRecord[]> {
    return batchJobs(this.#ctx, batchId);
  }

  async progress(updates: readonly ProgressUpdate[]): Promise<string[]> {
    return progressJobs(this.#ctx, updates);
  }

  async snooze(requests: readonly SnoozeRequest[]): Promise<string[]> {
    return snoozeJobs(this.#ctx, requests);
  }

  async cronTick(name: string, tickAt: Date, job: NewJob, overlap: CronOverlap): Promise<CronTickResult> {
    return cronTick(this.#ctx, name, tickAt, job, overlap);
  }

  async registerCron(entries: readonly CronEntryDefinition[]): Promise<void> {
    return registerCron(this.#ctx, entries);
  }

  async listCron(): Promise<CronEntryState[]> {
    return listCron(this.#ctx);
  }

  async setCronPaused(name: string, paused: boolean): Promise<boolean> {
    return setCronPaused(this.#ctx, name, paused);
  }
}
