import type { NewJob } from "../job-model.ts";
import type { JobStore } from "../job-store.ts";
import { batchJobs, batchProgress, cancelJob, getJob, listJobs, pruneJobs, retryJob } from "./admin.ts";
import type { PgContext } from "./context.ts";
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
import { listQueueSettings, setQueuePaused } from "./queues.ts";
import { progressJobs } from "./progress.ts";
import { snoozeJobs } from "./snooze.ts";
import { rescueExpiredJobs, rescueWorkerJobs } from "./rescue.ts";
import { queueStats } from "./stats.ts";

/**
 * The JobStore over a PostgreSQL pool: each method is one statement (a named prepared statement
 * on a pooled connection), or runs on the caller's client for `insert(jobs, tx)`.
 */
export function createPostgresJobStore(ctx: PgContext): JobStore {
  return {
    insert: (list: readonly NewJob[], tx?: unknown) => insertJobs(ctx, list, tx),
    claim: (request) => claimJobs(ctx, request),
    complete: (completions) => completeJobs(ctx, completions),
    fail: (failures) => failJobs(ctx, failures),
    heartbeat: (leases, leaseMs) => heartbeatJobs(ctx, leases, leaseMs),
    release: (leases) => releaseJobs(ctx, leases),
    markCancelled: (leases, reason) => markCancelledJobs(ctx, leases, reason),
    markStarted: (leases) => markStartedJobs(ctx, leases),
    rescueExpired: () => rescueExpiredJobs(ctx),
    rescueWorker: (workerId, reason) => rescueWorkerJobs(ctx, workerId, reason),
    cancel: (id) => cancelJob(ctx, id),
    retry: (id) => retryJob(ctx, id),
    get: (id) => getJob(ctx, id),
    list: (filter) => listJobs(ctx, filter),
    prune: (olderThan, limit) => pruneJobs(ctx, olderThan, limit),
    stats: () => queueStats(ctx),
    enqueueCronTick: (name, tickAt, job) => enqueueCronTick(ctx, name, tickAt, job),
    lastCronTick: (name) => lastCronTick(ctx, name),
    pauseQueue: (queue) => setQueuePaused(ctx, queue, true),
    resumeQueue: (queue) => setQueuePaused(ctx, queue, false),
    listQueues: () => listQueueSettings(ctx),
    dependencies: (id) => jobDependencies(ctx, id),
    batchProgress: (batchId) => batchProgress(ctx, batchId),
    batchJobs: (batchId) => batchJobs(ctx, batchId),
    progress: (updates) => progressJobs(ctx, updates),
    snooze: (requests) => snoozeJobs(ctx, requests),
    cronTick: (name, tickAt, job, overlap) => cronTick(ctx, name, tickAt, job, overlap),
    registerCron: (entries) => registerCron(ctx, entries),
    listCron: () => listCron(ctx),
    setCronPaused: (name, paused) => setCronPaused(ctx, name, paused),
  };
}
