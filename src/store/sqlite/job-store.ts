import type { DatabaseSync } from "node:sqlite";
import type {
  BatchProgress,
  ClaimedJob,
  ClaimRequest,
  Completion,
  Failure,
  HeartbeatResult,
  InsertResult,
  JobRecord,
  LeaseRef,
  ListFilter,
  NewJob,
  QueueStats,
  RescuedJob,
} from "../job-model.ts";
import type { CallerTransaction, JobStore } from "../job-store.ts";
import * as admin from "./admin-ops.ts";
import { assertCallerTransaction } from "./caller-tx.ts";
import type { SqliteContext } from "./context.ts";
import type { SqliteNotifier } from "./notifier.ts";
import * as rescue from "./rescue-ops.ts";
import { queueStats } from "./stats.ts";
import * as worker from "./worker-ops.ts";

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
    const { results, wakeups } = await ctx.write(() => worker.insertJobs(ctx, ctx.db, jobs));
    ctx.emit(wakeups);
    return results;
  }

  #insertInCallerTransaction(jobs: readonly NewJob[], tx: CallerTransaction): InsertResult[] {
    const ctx = this.#ctx;
    const db: DatabaseSync = assertCallerTransaction(tx, this.#realPath);
    if (jobs.length === 0) return [];
    const { results, wakeups } = worker.insertJobs(ctx, db, jobs);
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
    return worker.claimJobs(this.#ctx, request);
  }

  async complete(completions: readonly Completion[]): Promise<string[]> {
    return completions.length === 0 ? [] : worker.completeJobs(this.#ctx, completions);
  }

  async fail(failures: readonly Failure[]): Promise<string[]> {
    return failures.length === 0 ? [] : worker.failJobs(this.#ctx, failures);
  }

  async heartbeat(leases: readonly LeaseRef[], leaseMs: number): Promise<HeartbeatResult[]> {
    return worker.heartbeatJobs(this.#ctx, leases, leaseMs);
  }

  async release(leases: readonly LeaseRef[]): Promise<string[]> {
    return leases.length === 0 ? [] : worker.releaseJobs(this.#ctx, leases);
  }

  async markCancelled(leases: readonly LeaseRef[], reason: string): Promise<string[]> {
    return leases.length === 0 ? [] : worker.markCancelledJobs(this.#ctx, leases, reason);
  }

  async rescueExpired(): Promise<RescuedJob[]> {
    return rescue.rescueExpiredJobs(this.#ctx);
  }

  async rescueWorker(workerId: string, reason: string): Promise<RescuedJob[]> {
    return rescue.rescueWorkerJobs(this.#ctx, workerId, reason);
  }

  async cancel(id: string): Promise<JobRecord | null> {
    return admin.cancelJob(this.#ctx, id);
  }

  async retry(id: string): Promise<JobRecord | null> {
    return admin.retryJob(this.#ctx, id);
  }

  async get(id: string): Promise<JobRecord | null> {
    return admin.getJob(this.#ctx, id);
  }

  async list(filter: ListFilter): Promise<JobRecord[]> {
    return admin.listJobs(this.#ctx, filter);
  }

  async prune(olderThan: Date, limit: number): Promise<number> {
    return admin.pruneJobs(this.#ctx, olderThan, limit);
  }

  async stats(): Promise<QueueStats[]> {
    return queueStats(this.#ctx);
  }

  async enqueueCronTick(name: string, tickAt: Date, job: NewJob): Promise<boolean> {
    return admin.enqueueCronTick(this.#ctx, name, tickAt, job);
  }

  async lastCronTick(name: string): Promise<Date | null> {
    return admin.lastCronTick(this.#ctx, name);
  }

  async batchProgress(batchId: string): Promise<BatchProgress> {
    return admin.batchProgress(this.#ctx, batchId);
  }

  async batchJobs(batchId: string): Promise<JobRecord[]> {
    return admin.batchJobs(this.#ctx, batchId);
  }
}
