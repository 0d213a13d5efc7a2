import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import {
  checkBoolean,
  checkInteger,
  checkLogger,
  checkObject,
  checkOneOf,
  checkString,
  invalidArgument,
  isRevokedProxy,
  optionKeys,
  rejectUnknownKeys,
  TendError,
} from "../errors/index.ts";
import { type Duration, defaultWorkerId, parseDuration, type Task } from "../lifecycle/index.ts";
import {
  CRON_OVERLAPS,
  type CronEntryState,
  type InsertResult,
  type JobRecord,
  type Json,
  type ListFilter,
  type NewJob,
  type QueueSetting,
  type QueueStats,
  type Store,
} from "../store/index.ts";
import { awaitBatch, type Batch, type BatchItemResult, type BatchWaitOptions } from "./batch.ts";
import { type CronOptions, type CronSchedule, cronTask, parseCron } from "./cron.ts";
import { defineJobKind, type JobDefinition, type JobHandler, type JobKindOptions } from "./definition.ts";
import { buildNewJob, ENQUEUE_KEYS, type EnqueueItem, type EnqueueOptions } from "./enqueue.ts";
import { buildItems, itemCount } from "./enqueue-items.ts";
import { maintenanceTask, rescueIntervalFor } from "./maintenance.ts";
import { presenceInterval, presenceTask } from "./presence.ts";
import { type QueueInfo, queueInfos } from "./queue-info.ts";
import { type QueueLimitsOptions, toQueueLimitsChange } from "./queue-limits.ts";
import { MAX_DELAY_MS } from "./backoff.ts";
import { checkJobId, checkKind, checkQueue, POSITIVE_DURATION, TIMER_DURATION } from "./validate.ts";
import { flattenFlow, type FlowNode, type FlowResult, flowResult } from "./flow.ts";
import type { JobObserver } from "./observer.ts";
import { JobWorker, type WorkerCounters } from "./worker.ts";

/** Options of {@link Jobs}. */
export interface JobsOptions {
  log: Logger;
  /** This process's worker id (default: {@link defaultWorkerId}: env TEND_WORKER_ID, else `<host>:<pid>:<random>`). */
  workerId?: string;
  /** Queues this process works, with their concurrency (default: the queues of the defined kinds, each at `concurrency`). */
  queues?: Record<string, { concurrency: number }>;
  /** Concurrency of each queue not listed in `queues` (default 10). */
  concurrency?: number;
  /**
   * Jobs per queue claimed ahead of free slots, so that short jobs do not wait for a round trip.
   * Unset (the default), the depth adapts: it grows (up to ten times the concurrency) while claims
   * come back full and slots wait for them, and shrinks when claims come back short, so that an
   * idle worker holds nothing ahead. Set a number to fix it (0: claim only for free slots).
   * Claimed-ahead jobs are returned on stop without spending their attempt; if the process dies
   * before they started, they are returned by the rescue without spending it either.
   */
  prefetch?: number;
  /** Lease of a running job, renewed while it runs (default `"30s"`). */
  lease?: Duration;
  /** Fallback poll when no notification arrives (default `"1s"`). */
  pollInterval?: Duration;
  /** On stop, how long in-flight jobs may run before they are aborted and returned to the queue (default `"25s"`). */
  drainTimeout?: Duration;
  /** Largest payload or result, in bytes of JSON (default 1 MiB). */
  maxPayloadBytes?: number;
  /** Keep completed, discarded and cancelled jobs this long (default `"7d"`). */
  retention?: Duration;
  /**
   * Attempts that may end with the worker lost or hung before a job is discarded as poisoned
   * (TEND_E_JOB_POISONED), for kinds that do not set their own `maxLost` (default 3).
   */
  maxLost?: number;
  /**
   * How often this process refreshes its row in the store's process registry, which the
   * dashboard's workers page and `tend status --database` read (default `"10s"`; the row lapses
   * after three missed beats). `false`: the process does not register.
   */
  presence?: Duration | false;
  /** Least interval between two writes of one running job's progress (`ctx.progress`; default `"1s"`). */
  progressInterval?: Duration;
}

const JOBS_KEYS = optionKeys<JobsOptions>({
  log: true,
  workerId: true,
  queues: true,
  concurrency: true,
  prefetch: true,
  lease: true,
  pollInterval: true,
  drainTimeout: true,
  maxPayloadBytes: true,
  retention: true,
  maxLost: true,
  presence: true,
  progressInterval: true,
});
const QUEUE_KEYS = optionKeys<{ concurrency: number }>({ concurrency: true });
const TX_KEYS = optionKeys<{ tx?: unknown }>({ tx: true });
const CRON_KEYS = optionKeys<CronScheduleOptions>({
  name: true,
  timezone: true,
  catchUp: true,
  overlap: true,
  queue: true,
  priority: true,
  maxAttempts: true,
  maxLost: true,
  concurrencyKey: true,
  concurrencyLimit: true,
  rateLimit: true,
});
const LIST_FILTER_KEYS = optionKeys<ListFilter>({
  queue: true,
  kind: true,
  state: true,
  batchId: true,
  limit: true,
  beforeId: true,
  fromId: true,
  createdFrom: true,
  createdBefore: true,
  text: true,
  errorText: true,
});

/** Options of {@link Jobs.cron}: the schedule's, and the enqueue options of its jobs. */
export type CronScheduleOptions = CronOptions &
  Omit<EnqueueOptions, "tx" | "runAt" | "delay" | "uniqueKey" | "uniqueMode" | "after" | "onParentFailure">;

/**
 * The durable job queue of one app: define kinds, enqueue (also inside your own transaction),
 * schedule cron, run batches, inspect and operate. `tasks()` gives the Tasks to run under the
 * app's Manager (worker, cron, maintenance).
 *
 * @example
 * ```ts
 * const jobs = new Jobs(() => store, { log });
 * jobs.define("email.send", async ({ payload }) => sendMail(payload), { maxAttempts: 5 });
 * await jobs.enqueue("email.send", { to: "a@example.com" });
 * ```
 */
export class Jobs {
  readonly workerId: string;
  readonly #store: () => Promise<Store>;
  readonly #log: Logger;
  readonly #options: JobsOptions;
  readonly #definitions = new Map<string, JobDefinition>();
  readonly #schedules: CronSchedule[] = [];
  readonly #maxPayloadBytes: number;
  readonly #leaseMs: number;
  readonly #pollIntervalMs: number;
  readonly #presenceMs: number | null;
  readonly #drainTimeoutMs: number;
  readonly #retentionMs: number;
  readonly #maxLost: number | undefined;
  readonly #progressIntervalMs: number;
  #worker: JobWorker | null = null;
  #observer: JobObserver | undefined;

  constructor(store: () => Promise<Store>, options: JobsOptions) {
    checkObject("TEND_E_INVALID_JOB_OPTIONS", "jobs options", options);
    rejectUnknownKeys("jobs options", options, JOBS_KEYS, "TEND_E_INVALID_JOB_OPTIONS");
    checkLogger("TEND_E_INVALID_JOB_OPTIONS", "log", options.log);
    this.#store = store;
    this.#options = options;
    this.#log = options.log.child({ part: "jobs" });
    this.workerId =
      options.workerId === undefined
        ? defaultWorkerId()
        : checkString("TEND_E_INVALID_JOB_OPTIONS", "workerId", options.workerId);
    this.#maxPayloadBytes =
      options.maxPayloadBytes === undefined
        ? 1024 * 1024
        : checkInteger(
            "TEND_E_INVALID_JOB_OPTIONS",
            "maxPayloadBytes",
            options.maxPayloadBytes,
            1,
            256 * 1024 * 1024,
          );
    this.#leaseMs = parseDuration(options.lease ?? "30s", "lease", TIMER_DURATION);
    this.#pollIntervalMs = parseDuration(options.pollInterval ?? "1s", "pollInterval", TIMER_DURATION);
    this.#presenceMs = presenceInterval(options.presence);
    this.#drainTimeoutMs = parseDuration(options.drainTimeout ?? "25s", "drainTimeout", TIMER_DURATION);
    this.#progressIntervalMs = parseDuration(
      options.progressInterval ?? "1s",
      "progressInterval",
      TIMER_DURATION,
    );
    // At most a hundred years: the prune cutoff (now - retention) must stay a valid Date.
    this.#retentionMs = parseDuration(options.retention ?? "7d", "retention", {
      ...POSITIVE_DURATION,
      max: MAX_DELAY_MS,
    });
    this.#maxLost =
      options.maxLost === undefined
        ? undefined
        : checkInteger("TEND_E_INVALID_JOB_OPTIONS", "maxLost", options.maxLost, 1, 1000);
    if (options.concurrency !== undefined)
      checkInteger("TEND_E_INVALID_JOB_OPTIONS", "concurrency", options.concurrency, 1, 10_000);
    if (options.prefetch !== undefined)
      checkInteger("TEND_E_INVALID_JOB_OPTIONS", "prefetch", options.prefetch, 0, 10_000);
    if (options.queues !== undefined)
      checkObject(
        "TEND_E_INVALID_JOB_OPTIONS",
        "queues",
        options.queues,
        "an object of queue name to { concurrency }, e.g. { emails: { concurrency: 2 } }",
      );
    for (const [queue, q] of Object.entries(options.queues ?? {})) {
      checkQueue(queue);
      rejectUnknownKeys(`jobs options queues.${queue}`, q, QUEUE_KEYS, "TEND_E_INVALID_JOB_OPTIONS");
      checkInteger("TEND_E_INVALID_JOB_OPTIONS", `queues.${queue}.concurrency`, q?.concurrency, 1, 10_000);
    }
  }

  /**
   * Registers the handler of a job kind.
   *
   * @example
   * ```ts
   * jobs.define("thumbnail.make", async ({ payload, signal }) => makeThumb(payload.path, signal), { timeout: "2m" });
   * ```
   */
  define<P = Json, R = unknown>(
    kind: string,
    handler: JobHandler<P, R>,
    options: JobKindOptions<P> = {},
  ): void {
    const definition = defineJobKind(kind, handler, options);
    if (this.#definitions.has(kind)) {
      throw new TendError("TEND_E_DUPLICATE_JOB_KIND", `Job kind "${kind}" is already defined in this app.`, {
        details: { kind },
      });
    }
    this.#definitions.set(kind, definition);
  }

  /**
   * Enqueues one job. With `tx`, inside the caller's transaction. Returns its id, whether it was
   * inserted (false when its unique key is held by a pending or running job, whose id is returned)
   * and the `outcome`: `inserted`, `kept` (the holder is unchanged) or `replaced` (a `uniqueMode` of
   * `debounce` or `throttle` gave the pending holder this payload).
   *
   * @example
   * ```ts
   * const { id } = await jobs.enqueue("email.send", { to }, { delay: "10m", uniqueKey: `welcome:${userId}` });
   * ```
   */
  async enqueue(kind: string, payload?: unknown, options: EnqueueOptions = {}): Promise<InsertResult> {
    checkObject("TEND_E_INVALID_JOB_OPTIONS", "enqueue options", options, "an options object (or nothing)");
    rejectUnknownKeys(() => `enqueue options of ${kind}`, options, ENQUEUE_KEYS);
    const job = buildNewJob(kind, payload, options, this.#definitions.get(kind), {
      maxPayloadBytes: this.#maxPayloadBytes,
      maxLost: this.#maxLost,
      now: Date.now(),
    });
    const store = await this.#store();
    const [result] = await this.#insert(store, [job], options.tx);
    return result!;
  }

  /**
   * Enqueues many jobs in one round trip (thousands per call). Results are in input order.
   *
   * @example
   * ```ts
   * await jobs.enqueueMany(users.map((u) => ({ kind: "email.send", payload: { to: u.email } })));
   * ```
   */
  async enqueueMany(items: readonly EnqueueItem[], options: { tx?: unknown } = {}): Promise<InsertResult[]> {
    checkObject(
      "TEND_E_INVALID_JOB_OPTIONS",
      "enqueueMany options",
      options,
      "an options object (or nothing)",
    );
    rejectUnknownKeys("enqueueMany options", options, TX_KEYS);
    if (isRevokedProxy(items) || !Array.isArray(items))
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        "items",
        items,
        "an array of { kind, payload, ... }",
      );
    if (itemCount("enqueueMany", items) === 0) return [];
    const now = Date.now();
    const jobs = buildItems("enqueueMany", items, (item, i) => {
      const { kind, payload, ...rest } = item;
      return buildNewJob(kind, payload, rest, this.#definitions.get(kind), {
        maxPayloadBytes: this.#maxPayloadBytes,
        maxLost: this.#maxLost,
        now,
        item: i,
      });
    });
    const store = await this.#store();
    return this.#insert(store, jobs, options.tx);
  }

  /**
   * Enqueues a flow: a tree of jobs in which each job runs after its `children` have completed
   * (leaves first, the root last), in one transaction (the caller's with `tx`). A child that is
   * discarded or cancelled cancels the jobs above it, unless a node says `onChildFailure: "run"`.
   * Each job's handler reads its children's results with `ctx.afterResults()`. Returns the ids,
   * shaped as the flow. Throws TEND_E_INVALID_JOB_FLOW for a malformed tree (a node twice, too
   * deep or too large) and the enqueue errors for a bad node.
   *
   * @example
   * ```ts
   * const { id } = await jobs.enqueueFlow({
   *   kind: "report.merge",
   *   children: parts.map((p) => ({ kind: "report.part", payload: { p } })),
   * });
   * ```
   */
  async enqueueFlow(flow: FlowNode, options: { tx?: unknown } = {}): Promise<FlowResult> {
    checkObject(
      "TEND_E_INVALID_JOB_OPTIONS",
      "enqueueFlow options",
      options,
      "an options object (or nothing)",
    );
    rejectUnknownKeys("enqueueFlow options", options, TX_KEYS);
    const flat = flattenFlow(flow);
    const now = Date.now();
    const jobs = flat.map(({ item, afterIndexes, onParentFailure }) => {
      const { kind, payload, ...rest } = item;
      const job = buildNewJob(kind, payload, rest, this.#definitions.get(kind), {
        maxPayloadBytes: this.#maxPayloadBytes,
        maxLost: this.#maxLost,
        now,
      });
      if (afterIndexes.length > 0) {
        job.afterIndexes = afterIndexes;
        if (onParentFailure !== undefined) job.onParentFailure = onParentFailure;
      }
      return job;
    });
    const store = await this.#store();
    const results = await this.#insert(store, jobs, options.tx);
    return flowResult(
      flat,
      results.map((r) => r.id),
    );
  }

  /**
   * Schedules a kind on a cron expression. With several processes or machines each tick is
   * enqueued exactly once.
   *
   * @example
   * ```ts
   * jobs.cron("0 3 * * *", "records.purge", { olderThanDays: 30 }, { timezone: "Europe/Berlin" });
   * ```
   */
  cron(expression: string, kind: string, payload?: unknown, options: CronScheduleOptions = {}): void {
    checkObject("TEND_E_INVALID_CRON", "cron options", options, "an options object (or nothing)");
    rejectUnknownKeys(() => `cron options of ${String(kind)}`, options, CRON_KEYS, "TEND_E_INVALID_CRON");
    const { name, timezone, catchUp, overlap, ...enqueueOptions } = options;
    const pattern = parseCron(expression, timezone);
    checkKind(kind);
    if (name !== undefined) checkString("TEND_E_INVALID_CRON", "cron schedule name", name);
    if (catchUp !== undefined) checkBoolean("TEND_E_INVALID_CRON", "cron catchUp", catchUp);
    if (overlap !== undefined) checkOneOf("TEND_E_INVALID_CRON", "cron overlap", overlap, CRON_OVERLAPS);
    const scheduleName = name ?? `${kind}@${expression}`;
    if (this.#schedules.some((s) => s.name === scheduleName)) {
      throw invalidArgument(
        "TEND_E_INVALID_CRON",
        "cron schedule name",
        scheduleName,
        "a name not used by another schedule (pass options.name)",
      );
    }
    // Validate now, so a bad kind or payload fails at definition, not at 3 a.m.
    buildNewJob(kind, payload, enqueueOptions, this.#definitions.get(kind), {
      maxPayloadBytes: this.#maxPayloadBytes,
      maxLost: this.#maxLost,
      now: Date.now(),
    });
    this.#schedules.push({
      name: scheduleName,
      kind,
      expression,
      timezone: timezone ?? null,
      overlap: overlap ?? "skip",
      catchUp: catchUp ?? true,
      pattern,
      build: (tick) =>
        buildNewJob(kind, payload, { ...enqueueOptions, runAt: tick }, this.#definitions.get(kind), {
          maxPayloadBytes: this.#maxPayloadBytes,
          maxLost: this.#maxLost,
          now: Date.now(),
        }),
    });
  }

  /**
   * Enqueues jobs as one batch; `results()` resolves with every job's outcome in input order once
   * all have finished, wherever they ran.
   *
   * @example
   * ```ts
   * const batch = await jobs.batch(files.map((f) => ({ kind: "image.resize", payload: { f } })));
   * const results = await batch.results({ timeout: "1m" });
   * ```
   */
  async batch(items: readonly EnqueueItem[], options: { tx?: unknown } = {}): Promise<Batch> {
    checkObject("TEND_E_INVALID_JOB_OPTIONS", "batch options", options, "an options object (or nothing)");
    rejectUnknownKeys("batch options", options, TX_KEYS);
    if (isRevokedProxy(items) || !Array.isArray(items) || itemCount("batch", items) === 0) {
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        "batch items",
        items,
        "a non-empty array of { kind, payload, ... }",
      );
    }
    const batchId = randomUUID();
    const now = Date.now();
    const jobs = buildItems("batch", items, (item, i) => {
      const { kind, payload, ...rest } = item;
      if (rest.uniqueKey !== undefined)
        throw invalidArgument(
          "TEND_E_INVALID_JOB_OPTIONS",
          `items[${i}].uniqueKey`,
          rest.uniqueKey,
          "no unique key in a batch",
        );
      return buildNewJob(
        kind,
        payload,
        rest,
        this.#definitions.get(kind),
        { maxPayloadBytes: this.#maxPayloadBytes, now, maxLost: this.#maxLost, item: i },
        { batchId, batchIndex: i },
      );
    });
    const store = await this.#store();
    const inserted = await this.#insert(store, jobs, options.tx);
    return {
      id: batchId,
      jobIds: inserted.map((r) => r.id),
      results: (waitOptions?: BatchWaitOptions) => awaitBatch(store, batchId, waitOptions),
    };
  }

  /** Waits for a batch by id (for example one enqueued by another process). */
  async batchResults(batchId: string, options?: BatchWaitOptions): Promise<BatchItemResult[]> {
    if (typeof batchId !== "string" || batchId.length === 0)
      throw invalidArgument("TEND_E_INVALID_JOB_OPTIONS", "batchId", batchId, "a batch id");
    if (options !== undefined)
      checkObject(
        "TEND_E_INVALID_JOB_OPTIONS",
        "batch wait options",
        options,
        "an options object (or nothing)",
      );
    return awaitBatch(await this.#store(), batchId, options);
  }

  /** Cancels a job: a pending one at once, a running one by aborting its handler's signal on whichever process runs it. */
  async cancel(id: string): Promise<JobRecord> {
    return this.#found(id, await (await this.#store()).jobs.cancel(checkJobId(id)));
  }

  /** Makes a discarded or cancelled job available again with fresh attempts. */
  async retry(id: string): Promise<JobRecord> {
    return this.#found(id, await (await this.#store()).jobs.retry(checkJobId(id)));
  }

  /** One job, or null. */
  async get(id: string): Promise<JobRecord | null> {
    return (await this.#store()).jobs.get(checkJobId(id));
  }

  /** Jobs matching a filter, newest first. */
  async list(filter: ListFilter = {}): Promise<JobRecord[]> {
    checkObject("TEND_E_INVALID_STORE_ARGUMENT", "jobs.list filter", filter, "a filter object (or nothing)");
    rejectUnknownKeys("jobs.list filter", filter, LIST_FILTER_KEYS, "TEND_E_INVALID_STORE_ARGUMENT");
    return (await this.#store()).jobs.list(filter);
  }

  /**
   * Every cron schedule registered in the store (by any process that ran one), with whether it
   * is paused, its last tick, the last tick's job and its skipped ticks.
   *
   * @example
   * ```ts
   * for (const e of await jobs.cronEntries()) console.log(e.name, e.paused, e.lastTick);
   * ```
   */
  async cronEntries(): Promise<CronEntryState[]> {
    return (await this.#store()).jobs.listCron();
  }

  /**
   * Pauses a cron schedule for every process (persisted): its ticks are recorded and enqueue
   * nothing until it is resumed. Throws TEND_E_CRON_NOT_FOUND for a name no process registered.
   *
   * @example
   * ```ts
   * await jobs.pauseCron("records.purge@0 3 * * *");
   * ```
   */
  async pauseCron(name: string): Promise<void> {
    await this.#setCronPaused(name, true);
  }

  /** Resumes a paused cron schedule: its next tick enqueues again (missed ticks are not made up). */
  async resumeCron(name: string): Promise<void> {
    await this.#setCronPaused(name, false);
  }

  async #setCronPaused(name: string, paused: boolean): Promise<void> {
    checkString("TEND_E_INVALID_CRON", "cron schedule name", name);
    if (!(await (await this.#store()).jobs.setCronPaused(name, paused))) {
      throw new TendError(
        "TEND_E_CRON_NOT_FOUND",
        `No cron schedule named "${name}" is registered (a process registers its schedules when it starts them).`,
        { details: { name } },
      );
    }
  }

  /** Per-queue statistics read from the store. */
  async stats(): Promise<QueueStats[]> {
    return (await this.#store()).jobs.stats();
  }

  /**
   * Pauses a queue, in every process: within a second no worker claims its jobs (each claim checks
   * the stored flag); jobs already running finish, and jobs a worker claimed ahead are returned
   * without spending an attempt. Enqueueing still works. Idempotent.
   *
   * @example
   * ```ts
   * await jobs.pauseQueue("emails"); // the mail provider is down
   * ```
   */
  async pauseQueue(queue: string): Promise<QueueSetting> {
    return (await this.#store()).jobs.pauseQueue(checkQueue(queue));
  }

  /**
   * Resumes a paused queue: its workers in every process claim again at once. Idempotent.
   *
   * @example
   * ```ts
   * await jobs.resumeQueue("emails");
   * ```
   */
  async resumeQueue(queue: string): Promise<QueueSetting> {
    return (await this.#store()).jobs.resumeQueue(checkQueue(queue));
  }

  /**
   * Sets or clears limits of a queue, for every process: at most `concurrency` of its jobs run at
   * once, and at most `rate.limit` start per `rate.per` window, across every worker (on top of any
   * kind's or job's own limits). A field left out is kept; null clears it. Stored in the database
   * until changed; every claim holds it (PostgreSQL: each process sees a change within a second).
   * Bad values throw TEND_E_INVALID_QUEUE_LIMITS.
   *
   * @example
   * ```ts
   * await jobs.setQueueLimits("emails", { concurrency: 5, rate: { limit: 10, per: "1s" } });
   * await jobs.setQueueLimits("emails", { rate: null }); // keep the concurrency limit
   * ```
   */
  async setQueueLimits(queue: string, limits: QueueLimitsOptions): Promise<QueueSetting> {
    const change = toQueueLimitsChange(limits);
    return (await this.#store()).jobs.setQueueLimits(checkQueue(queue), change);
  }

  /**
   * Every queue with jobs, recent activity or a stored setting: its statistics, whether it is
   * paused and its limits, by name.
   *
   * @example
   * ```ts
   * const paused = (await jobs.listQueues()).filter((q) => q.paused).map((q) => q.queue);
   * ```
   */
  async listQueues(): Promise<QueueInfo[]> {
    return queueInfos((await this.#store()).jobs);
  }

  /** Kinds defined in this process. */
  kinds(): string[] {
    return [...this.#definitions.keys()];
  }

  /** Whether this process defines job kind `kind`. */
  defines(kind: string): boolean {
    return this.#definitions.has(kind);
  }

  /** Jobs running in this process now. */
  inFlight(): number {
    return this.#worker?.inFlight() ?? 0;
  }

  /** When this process last completed a job (ms since epoch), or null. */
  lastCompletionAt(): number | null {
    return this.#worker?.lastCompletionAt() ?? null;
  }

  /** Counters of this process's worker. */
  counters(): WorkerCounters | null {
    return this.#worker?.counters ?? null;
  }

  /**
   * The Tasks to run: the worker (when kinds are defined or queues configured), the cron
   * scheduler (when schedules exist) and maintenance (rescue of lapsed leases, pruning).
   */
  async tasks(): Promise<Task[]> {
    const store = await this.#store();
    const tasks: Task[] = [];
    const queues = this.#queues();
    if (queues.size > 0) {
      this.#worker = new JobWorker(store, this.#definitions, {
        workerId: this.workerId,
        queues,
        leaseMs: this.#leaseMs,
        prefetch: this.#options.prefetch ?? null,
        pollIntervalMs: this.#pollIntervalMs,
        drainTimeoutMs: this.#drainTimeoutMs,
        abortGraceMs: 2_000,
        maxResultBytes: this.#maxPayloadBytes,
        progressIntervalMs: this.#progressIntervalMs,
        log: this.#log,
        observer: this.#observer,
      });
      tasks.push(this.#worker);
    }
    if (this.#schedules.length > 0) tasks.push(cronTask(store, this.#schedules, this.#log));
    if (tasks.length > 0) {
      tasks.push(
        maintenanceTask(store, {
          rescueIntervalMs: rescueIntervalFor(this.#leaseMs),
          pruneIntervalMs: 10 * 60_000,
          retentionMs: this.#retentionMs,
          log: this.#log,
          ...(this.#observer?.rescued === undefined ? {} : { onRescued: this.#observer.rescued }),
        }),
      );
    }
    if (this.#presenceMs !== null) {
      tasks.push(
        presenceTask(store, {
          workerId: this.workerId,
          intervalMs: this.#presenceMs,
          queues: () => queues,
          inFlight: () => this.inFlight(),
          log: this.#log,
        }),
      );
    }
    return tasks;
  }

  /**
   * Sets what watches this part (metrics, traces, the error hook); set before `tasks()`.
   *
   * @example
   * ```ts
   * jobs.observe({ rescued: (jobs) => rescuedTotal.inc(jobs.length) });
   * ```
   */
  observe(observer: JobObserver | undefined): void {
    this.#observer = observer;
  }

  async #insert(store: Store, jobs: NewJob[], tx: unknown): Promise<InsertResult[]> {
    const watch = this.#observer?.enqueue?.(jobs);
    if (watch === undefined) return store.jobs.insert(jobs, tx);
    try {
      const results = await store.jobs.insert(jobs, tx);
      watch.end(null, results);
      return results;
    } catch (err) {
      watch.end(err, null);
      throw err;
    }
  }

  /**
   * What this process knows of each queue's limits: its worker's concurrency (0 when it does not
   * work the queue) and the kinds defined on it with a concurrency or rate limit. For the
   * dashboard's queues page.
   *
   * @example
   * ```ts
   * jobs.queueLimits(); // [{ queue: "mail", concurrency: 4, kinds: [{ kind: "mail.send", concurrencyLimit: null, rateLimit: { limit: 10, periodMs: 1000 } }] }]
   * ```
   */
  queueLimits(): QueueLimits[] {
    const byQueue = new Map<string, QueueLimits>();
    const of = (queue: string) => {
      let q = byQueue.get(queue);
      if (q === undefined) byQueue.set(queue, (q = { queue, concurrency: 0, kinds: [] }));
      return q;
    };
    for (const [queue, concurrency] of this.#queues()) of(queue).concurrency = concurrency;
    for (const def of this.#definitions.values()) {
      if (def.concurrencyLimit === null && def.rateLimit === null) continue;
      of(def.queue).kinds.push({
        kind: def.kind,
        concurrencyLimit: def.concurrencyLimit,
        rateLimit: def.rateLimit === null ? null : { ...def.rateLimit },
      });
    }
    return [...byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }

  /**
   * Enqueues the job of a cron schedule this process defines now, as its next tick would (same
   * kind, payload and options), without recording a tick. Returns null when this process defines
   * no schedule of that name.
   *
   * @example
   * ```ts
   * await jobs.runCronNow("records.purge@0 3 * * *"); // { id: "42", inserted: true }
   * ```
   */
  async runCronNow(name: string): Promise<InsertResult | null> {
    const schedule = this.#schedules.find((s) => s.name === name);
    if (schedule === undefined) return null;
    const [result] = await (await this.#store()).jobs.insert([schedule.build(new Date())]);
    return result!;
  }

  #queues(): Map<string, number> {
    const perQueue = this.#options.concurrency ?? 10;
    const queues = new Map<string, number>();
    if (this.#options.queues !== undefined) {
      for (const [queue, q] of Object.entries(this.#options.queues)) queues.set(queue, q.concurrency);
      return queues;
    }
    for (const def of this.#definitions.values()) queues.set(def.queue, perQueue);
    return queues;
  }

  #found(id: string, job: JobRecord | null): JobRecord {
    if (job === null)
      throw new TendError("TEND_E_JOB_NOT_FOUND", `No job with id ${id}.`, { details: { id } });
    return job;
  }
}

/** A queue's limits as one process knows them (see {@link Jobs.queueLimits}). */
export interface QueueLimits {
  queue: string;
  /** This process's worker concurrency on the queue (0: it does not work it). */
  concurrency: number;
  /** Kinds of the queue with a concurrency or rate limit. */
  kinds: Array<{
    kind: string;
    concurrencyLimit: number | null;
    rateLimit: { limit: number; periodMs: number } | null;
  }>;
}
