import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Task } from "../lifecycle/index.ts";
import {
  type ClaimedJob,
  type Completion,
  type Failure,
  isStoreUnavailable,
  type LeaseRef,
  type Store,
} from "../store/index.ts";
import { type AttemptDeps, type RunningJob, runAttempt } from "./attempt.ts";
import type { JobDefinition } from "./definition.ts";
import type { AbortReason } from "./outcome.ts";
import { QueueState } from "./queue-state.ts";
import { type SplitPolicy, WriteBatcher } from "./write-batcher.ts";

/** At most one lease renewal this often for change notices that name no job (see #unattributedCancelCheck). */
const UNATTRIBUTED_CANCEL_CHECK_MS = 250;

/** Settings of the job worker. */
export interface WorkerSettings {
  workerId: string;
  /** Queue name to concurrency (jobs of that queue run at once in this process). */
  queues: ReadonlyMap<string, number>;
  leaseMs: number;
  /** Fallback poll when no wake-up arrives (scheduled jobs, lost notifications). */
  pollIntervalMs: number;
  /** Jobs per queue claimed ahead of free slots (0: claim only for free slots). */
  prefetch: number;
  /** On stop, how long in-flight jobs may run before their signals abort. */
  drainTimeoutMs: number;
  /** After aborting, how long handlers get to return before their jobs are released anyway. */
  abortGraceMs: number;
  maxResultBytes: number;
  log: Logger;
}

/** Counters a worker keeps; the supervisor and metrics read them. */
export interface WorkerCounters {
  claimed: number;
  completed: number;
  failed: number;
  released: number;
  cancelled: number;
  lostLeases: number;
}

/**
 * The job worker Task: one claim loop per queue fetching in batches up to free capacity (plus an
 * optional prefetch buffer claimed ahead, whose leases are renewed like running jobs'), handlers
 * run concurrently, completions and failures written in batches, leases renewed while jobs run,
 * cancels and lost leases abort handlers. On stop it claims nothing more, lets in-flight jobs finish
 * within the drain budget, then aborts them and returns unfinished ones to available without
 * spending their attempt.
 */
export class JobWorker implements Task {
  readonly name = "jobs.worker";
  readonly counters: WorkerCounters = {
    claimed: 0,
    completed: 0,
    failed: 0,
    released: 0,
    cancelled: 0,
    lostLeases: 0,
  };
  readonly #store: Store;
  readonly #definitions: ReadonlyMap<string, JobDefinition>;
  readonly #settings: WorkerSettings;
  readonly #log: Logger;
  /** Jobs started and not yet settled (handler running, or its outcome being written). */
  readonly #running = new Map<string, RunningJob>();
  readonly #queues = new Map<string, QueueState>();
  readonly #completions: WriteBatcher<Completion, ReadonlySet<string>>;
  readonly #failures: WriteBatcher<Failure, string[]>;
  readonly #releases: WriteBatcher<LeaseRef, string[]>;
  readonly #cancels: WriteBatcher<LeaseRef, string[]>;
  #lastCompletionAt: number | null = null;
  /** Where every attempt writes its outcome, and counts it (shared: nothing in them is per job). */
  readonly #writes: AttemptDeps["writes"] = {
    complete: (c) => this.#completions.add(c),
    fail: (f) => this.#failures.add(f),
    release: (r) => this.#releases.add(r),
    cancel: (r) => this.#cancels.add(r),
  };
  readonly #onOutcome: AttemptDeps["onOutcome"] = (outcome) => {
    this.counters[outcome]++;
    if (outcome === "completed") this.#lastCompletionAt = Date.now();
  };
  #settledWaiters: Array<() => void> = [];
  #cancelCheckTimer: NodeJS.Timeout | null = null;
  #lastCancelCheckAt = 0;

  constructor(store: Store, definitions: ReadonlyMap<string, JobDefinition>, settings: WorkerSettings) {
    this.#store = store;
    this.#definitions = definitions;
    this.#settings = settings;
    this.#log = settings.log;
    // A batch the database refuses is written again one item at a time: one job's bad data must
    // not keep the others of its batch from being recorded.
    const split = (what: string): { split: SplitPolicy } => ({
      split: {
        retrySingly: (err) => !isStoreUnavailable(err),
        onSplit: (err, items) =>
          this.#log.warn({ err, items }, `the store refused a batch of ${what}; writing them one by one`),
      },
    });
    // A batch's completed ids as a set: each of its jobs looks itself up once.
    this.#completions = new WriteBatcher(
      async (items): Promise<ReadonlySet<string>> => new Set(await store.jobs.complete(items)),
      split("completions"),
    );
    this.#failures = new WriteBatcher((items) => store.jobs.fail(items), split("failures"));
    this.#releases = new WriteBatcher((items) => store.jobs.release(items), split("releases"));
    this.#cancels = new WriteBatcher(
      (items) => store.jobs.markCancelled(items, "cancelled while running"),
      split("cancellations"),
    );
    for (const [queue, concurrency] of settings.queues) {
      this.#queues.set(queue, new QueueState(queue, concurrency, settings.prefetch));
    }
  }

  /** Jobs held by this process now: running, claimed ahead, or finished with their outcome being written. */
  inFlight(): number {
    let buffered = 0;
    for (const q of this.#queues.values()) buffered += q.buffer.length;
    return this.#running.size + buffered;
  }

  /** When this process last completed a job (ms since epoch), or null. */
  lastCompletionAt(): number | null {
    return this.#lastCompletionAt;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { notifier } = this.#store;
    const unlisten = await Promise.all([
      notifier.listen(
        "jobs",
        (queue) => this.#wakeQueue(queue, true),
        () => this.#wakeQueue("*", true),
      ),
      notifier.listen("cancel", (id) => this.#onCancelNotice(id)),
    ]);
    const heartbeat = setInterval(
      () => void this.#heartbeat(),
      Math.max(50, Math.floor(this.#settings.leaseMs / 3)),
    );
    heartbeat.unref();
    this.#log.info(
      {
        workerId: this.#settings.workerId,
        queues: Object.fromEntries(this.#settings.queues),
        prefetch: this.#settings.prefetch,
        kinds: [...this.#definitions.keys()],
      },
      "job worker started",
    );
    try {
      await Promise.all([...this.#queues.values()].map((q) => this.#claimLoop(q, signal)));
      await this.#releaseBuffered();
      await this.#drain();
    } finally {
      clearInterval(heartbeat);
      if (this.#cancelCheckTimer !== null) clearTimeout(this.#cancelCheckTimer);
      this.#cancelCheckTimer = null;
      await Promise.allSettled(unlisten.map((stop) => stop()));
      await this.#flushWrites();
    }
  }

  async #claimLoop(q: QueueState, signal: AbortSignal): Promise<void> {
    let errorDelay = 100;
    const onAbort = (): void => q.resolve?.();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (!signal.aborted) {
        this.#startBuffered(q);
        q.dirty = false;
        // Drained queues are polled as a fallback (scheduled jobs coming due, lost notifications).
        if (q.drained && !q.notified && Date.now() >= q.nextPollAt) q.notified = true;
        const size = q.claimSize();
        if (size === 0) {
          await q.waitForWake(q.drained ? Math.max(0, q.nextPollAt - Date.now()) : null);
          continue;
        }
        q.notified = false;
        let claimed: ClaimedJob[];
        try {
          claimed = await this.#store.jobs.claim({
            queue: q.name,
            limit: size,
            workerId: this.#settings.workerId,
            leaseMs: this.#settings.leaseMs,
          });
          errorDelay = 100;
        } catch (err) {
          this.#log.warn(
            { err, queue: q.name, retryInMs: errorDelay },
            "claiming jobs failed; retrying (is the database reachable?)",
          );
          q.notified = true;
          await sleep(errorDelay, undefined, { signal }).catch(() => {});
          errorDelay = Math.min(errorDelay * 2, 5_000);
          continue;
        }
        this.counters.claimed += claimed.length;
        q.held += claimed.length;
        q.buffer.push(...claimed);
        q.drained = claimed.length < size;
        if (q.drained) q.nextPollAt = Date.now() + this.#settings.pollIntervalMs;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Starts buffered jobs while the queue has free handler slots. */
  #startBuffered(q: QueueState): void {
    while (q.running < q.concurrency) {
      const job = q.buffer.shift();
      if (job === undefined) return;
      this.#start(job, q);
    }
  }

  #wakeQueue(queue: string, notified: boolean): void {
    if (queue === "*" || queue === "") {
      for (const q of this.#queues.values()) q.wake(notified);
      return;
    }
    this.#queues.get(queue)?.wake(notified);
  }

  #start(job: ClaimedJob, q: QueueState): void {
    const entry: RunningJob = {
      job,
      ref: { id: job.id, leaseToken: job.leaseToken },
      controller: new AbortController(),
      abortReason: null,
    };
    this.#running.set(job.id, entry);
    q.running++;
    void runAttempt(entry, {
      definition: this.#definitions.get(job.kind),
      log: this.#log,
      maxResultBytes: this.#settings.maxResultBytes,
      heartbeat: () => this.#heartbeatOf([entry], []),
      // The slot frees when the handler returns; its outcome is written in the next batch.
      handlerDone: () => {
        entry.handlerReturned = true;
        q.running--;
        q.wake(false);
      },
      writes: this.#writes,
      onOutcome: this.#onOutcome,
    }).finally(() => this.#settle(entry, q));
  }

  #settle(entry: RunningJob, q: QueueState): void {
    this.#running.delete(entry.job.id);
    q.held--;
    q.wake(false);
    if (this.#running.size === 0) {
      const waiters = this.#settledWaiters;
      this.#settledWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** At stop: jobs claimed ahead never started; return them without spending their attempt. */
  async #releaseBuffered(): Promise<void> {
    const refs: LeaseRef[] = [];
    for (const q of this.#queues.values()) {
      const jobs = q.buffer.splice(0);
      q.held -= jobs.length;
      for (const job of jobs) refs.push({ id: job.id, leaseToken: job.leaseToken });
    }
    if (refs.length === 0) return;
    try {
      await this.#store.jobs.release(refs);
      this.counters.released += refs.length;
    } catch (err) {
      this.#log.error(
        { err, jobs: refs.length },
        "returning jobs claimed ahead failed; they are rescued when their lease lapses",
      );
    }
  }

  #allSettled(timeoutMs: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#settledWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** After stop: let in-flight jobs finish, then abort them, then release what still runs. */
  async #drain(): Promise<void> {
    if (this.#running.size === 0) return;
    this.#log.info(
      { inFlight: this.#running.size, budgetMs: this.#settings.drainTimeoutMs },
      "waiting for in-flight jobs to finish",
    );
    if (await this.#allSettled(this.#settings.drainTimeoutMs)) return;
    this.#log.warn(
      { inFlight: this.#running.size },
      "drain budget spent; aborting in-flight jobs and returning them to the queue",
    );
    for (const entry of this.#running.values()) abort(entry, "shutdown");
    if (await this.#allSettled(this.#settings.abortGraceMs)) return;
    const stuck = [...this.#running.values()];
    this.#log.warn(
      { jobs: stuck.map((e) => ({ id: e.job.id, kind: e.job.kind })) },
      "handlers ignored their abort signal; returning their jobs to the queue without waiting",
    );
    for (const entry of stuck) {
      entry.abortReason = "lease-lost"; // whatever the handler does later must not write
      void this.#releases
        .add(entry.ref)
        .catch((err: unknown) => this.#log.error({ err, jobId: entry.job.id }, "release failed"));
    }
  }

  async #flushWrites(): Promise<void> {
    await Promise.allSettled([
      this.#completions.flush(),
      this.#failures.flush(),
      this.#releases.flush(),
      this.#cancels.flush(),
    ]);
  }

  async #heartbeat(): Promise<void> {
    const buffered = [...this.#queues.values()].flatMap((q) => q.buffer);
    if (this.#running.size === 0 && buffered.length === 0) return;
    await this.#heartbeatOf([...this.#running.values()], buffered);
  }

  /** Renews the leases of running and buffered jobs; aborts or drops the ones lost or cancelled. */
  async #heartbeatOf(entries: RunningJob[], buffered: ClaimedJob[]): Promise<void> {
    const live = entries.filter((e) => e.abortReason !== "lease-lost");
    const refs = [
      ...live.map((e) => e.ref),
      ...buffered.map((j) => ({ id: j.id, leaseToken: j.leaseToken })),
    ];
    if (refs.length === 0) return;
    try {
      const results = await this.#store.jobs.heartbeat(refs, this.#settings.leaseMs);
      const cancelled: LeaseRef[] = [];
      for (const result of results) {
        if (result.held && !result.cancelRequested) continue;
        const entry = this.#running.get(result.id);
        if (entry !== undefined) {
          // Its handler already returned: the row is no longer running because this process
          // just wrote its outcome (or that fenced write will find the lease lost and say so).
          // Only a job whose handler still runs can have lost its lease to someone else.
          if (entry.handlerReturned === true) continue;
          if (!result.held) {
            this.counters.lostLeases++;
            this.#log.warn(
              { jobId: result.id, kind: entry.job.kind },
              "lost the lease of a running job; aborting it without writing",
            );
            abort(entry, "lease-lost");
          } else abort(entry, "cancel");
          continue;
        }
        const job = this.#unbuffer(result.id);
        if (job === undefined) continue;
        if (!result.held) this.counters.lostLeases++;
        else cancelled.push({ id: job.id, leaseToken: job.leaseToken });
      }
      if (cancelled.length > 0) {
        await this.#store.jobs.markCancelled(cancelled, "cancelled before it started");
        this.counters.cancelled += cancelled.length;
      }
    } catch (err) {
      this.#log.warn(
        { err },
        "renewing job leases failed; will retry (jobs are rescued if their lease lapses)",
      );
    }
  }

  /** Removes a job from its queue's buffer (lost or cancelled before it started). */
  #unbuffer(id: string): ClaimedJob | undefined {
    for (const q of this.#queues.values()) {
      const i = q.buffer.findIndex((j) => j.id === id);
      if (i === -1) continue;
      const [job] = q.buffer.splice(i, 1);
      q.held--;
      q.wake(false);
      return job;
    }
    return undefined;
  }

  #onCancelNotice(id: string): void {
    const entry = this.#running.get(id);
    if (entry !== undefined) abort(entry, "cancel");
    else if (id === "*") this.#unattributedCancelCheck();
    else if (this.inFlight() > 0) void this.#heartbeat();
  }

  /**
   * "Something changed, maybe a cancel" (SQLite: another process committed; it cannot say what):
   * renewing every lease to learn about cancels is a write, so it runs at most once per
   * UNATTRIBUTED_CANCEL_CHECK_MS (the last notice of a window is never dropped), not once per
   * commit by every other process, which would compete for the write lock all the time.
   */
  #unattributedCancelCheck(): void {
    if (this.#cancelCheckTimer !== null) return;
    const wait = Math.max(0, this.#lastCancelCheckAt + UNATTRIBUTED_CANCEL_CHECK_MS - Date.now());
    this.#cancelCheckTimer = setTimeout(() => {
      this.#cancelCheckTimer = null;
      this.#lastCancelCheckAt = Date.now();
      if (this.inFlight() > 0) void this.#heartbeat();
    }, wait);
    this.#cancelCheckTimer.unref();
  }
}

/** Aborts a running handler. The first reason wins, except that a lost lease always wins: then nothing may be written. */
function abort(entry: RunningJob, reason: AbortReason): void {
  if (entry.abortReason === "lease-lost") return;
  if (entry.abortReason !== null && reason !== "lease-lost") return;
  entry.abortReason = reason;
  entry.controller.abort(reason);
}
