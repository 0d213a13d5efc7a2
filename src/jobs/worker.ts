import type { Logger } from "pino";
import type { Task } from "../lifecycle/task.ts";
import type { Store } from "../store/store.ts";
import { type RunningJob, runAttempt } from "./attempt.ts";
import type { JobDefinition } from "./definition.ts";
import type { ClaimedJob, Completion, Failure, LeaseRef } from "./model.ts";
import type { AbortReason } from "./outcome.ts";
import { WriteBatcher } from "./write-batcher.ts";

/** Settings of the job worker. */
export interface WorkerSettings {
  workerId: string;
  /** Queue name to concurrency (jobs of that queue run at once in this process). */
  queues: ReadonlyMap<string, number>;
  leaseMs: number;
  /** Fallback poll when no wake-up arrives (scheduled jobs, lost notifications). */
  pollIntervalMs: number;
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
 * The job worker Task: one claim loop per queue fetching in batches up to free capacity, handlers
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
  readonly #running = new Map<string, RunningJob>();
  /** Per queue: handlers running now (the concurrency limit applies to these). */
  readonly #inFlight = new Map<string, number>();
  /** Per queue: jobs claimed whose outcome is not yet written (handlers running or done). */
  readonly #held = new Map<string, number>();
  readonly #wake = new Map<string, { dirty: boolean; resolve: (() => void) | null }>();
  readonly #completions: WriteBatcher<Completion, string[]>;
  readonly #failures: WriteBatcher<Failure, string[]>;
  readonly #releases: WriteBatcher<LeaseRef, string[]>;
  readonly #cancels: WriteBatcher<LeaseRef, string[]>;
  #lastCompletionAt: number | null = null;
  #settledWaiters: Array<() => void> = [];

  constructor(store: Store, definitions: ReadonlyMap<string, JobDefinition>, settings: WorkerSettings) {
    this.#store = store;
    this.#definitions = definitions;
    this.#settings = settings;
    this.#log = settings.log;
    this.#completions = new WriteBatcher((items) => store.jobs.complete(items));
    this.#failures = new WriteBatcher((items) => store.jobs.fail(items));
    this.#releases = new WriteBatcher((items) => store.jobs.release(items));
    this.#cancels = new WriteBatcher((items) => store.jobs.markCancelled(items, "cancelled while running"));
    for (const queue of settings.queues.keys()) this.#wake.set(queue, { dirty: true, resolve: null });
  }

  /** Jobs running in this process now. */
  inFlight(): number {
    return this.#running.size;
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
        (queue) => this.#wakeQueue(queue),
        () => this.#wakeQueue("*"),
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
        kinds: [...this.#definitions.keys()],
      },
      "job worker started",
    );
    try {
      await Promise.all(
        [...this.#settings.queues].map(([queue, concurrency]) => this.#claimLoop(queue, concurrency, signal)),
      );
      await this.#drain();
    } finally {
      clearInterval(heartbeat);
      await Promise.allSettled(unlisten.map((stop) => stop()));
      await this.#flushWrites();
    }
  }

  async #claimLoop(queue: string, concurrency: number, signal: AbortSignal): Promise<void> {
    let errorDelay = 100;
    const wake = this.#wake.get(queue)!;
    const onAbort = (): void => wake.resolve?.();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (!signal.aborted) {
        // A finished handler frees its slot at once, while its completion is written in the next
        // batch; at most `concurrency` such unwritten outcomes are held on top of running handlers.
        const free = Math.min(
          concurrency - (this.#inFlight.get(queue) ?? 0),
          2 * concurrency - (this.#held.get(queue) ?? 0),
        );
        if (free <= 0) {
          // A freed slot wakes us; notifications while full carry nothing new.
          wake.dirty = false;
          await this.#waitForWake(queue, null);
          continue;
        }
        wake.dirty = false;
        let claimed: ClaimedJob[];
        try {
          claimed = await this.#store.jobs.claim({
            queue,
            limit: free,
            workerId: this.#settings.workerId,
            leaseMs: this.#settings.leaseMs,
          });
          errorDelay = 100;
        } catch (err) {
          this.#log.warn(
            { err, queue, retryInMs: errorDelay },
            "claiming jobs failed; retrying (is the database reachable?)",
          );
          await this.#waitForWake(queue, errorDelay);
          errorDelay = Math.min(errorDelay * 2, 5_000);
          continue;
        }
        this.counters.claimed += claimed.length;
        for (const job of claimed) this.#start(job);
        if (claimed.length < free && !signal.aborted)
          await this.#waitForWake(queue, this.#settings.pollIntervalMs);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Waits for a wake-up of the queue (notification, a freed slot, stop) or the timeout. */
  #waitForWake(queue: string, timeoutMs: number | null): Promise<void> {
    const wake = this.#wake.get(queue)!;
    if (wake.dirty) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = timeoutMs === null ? null : setTimeout(done, timeoutMs);
      function done(): void {
        if (timer !== null) clearTimeout(timer);
        wake.resolve = null;
        resolve();
      }
      wake.resolve = done;
    });
  }

  #wakeQueue(queue: string): void {
    if (queue === "*" || queue === "") {
      for (const name of this.#wake.keys()) this.#wakeQueue(name);
      return;
    }
    const wake = this.#wake.get(queue);
    if (wake === undefined) return;
    wake.dirty = true;
    wake.resolve?.();
  }

  #start(job: ClaimedJob): void {
    const entry: RunningJob = {
      job,
      ref: { id: job.id, leaseToken: job.leaseToken },
      controller: new AbortController(),
      abortReason: null,
    };
    this.#running.set(job.id, entry);
    this.#inFlight.set(job.queue, (this.#inFlight.get(job.queue) ?? 0) + 1);
    this.#held.set(job.queue, (this.#held.get(job.queue) ?? 0) + 1);
    void runAttempt(entry, {
      definition: this.#definitions.get(job.kind),
      log: this.#log,
      maxResultBytes: this.#settings.maxResultBytes,
      heartbeat: () => this.#heartbeatOf([entry]),
      handlerDone: () => {
        this.#inFlight.set(job.queue, (this.#inFlight.get(job.queue) ?? 1) - 1);
        this.#wakeQueue(job.queue);
      },
      writes: {
        complete: (c) => this.#completions.add(c),
        fail: (f) => this.#failures.add(f),
        release: (r) => this.#releases.add(r),
        cancel: (r) => this.#cancels.add(r),
      },
      onOutcome: (outcome) => {
        this.counters[outcome]++;
        if (outcome === "completed") this.#lastCompletionAt = Date.now();
      },
    }).finally(() => this.#settle(entry));
  }

  #settle(entry: RunningJob): void {
    this.#running.delete(entry.job.id);
    this.#held.set(entry.job.queue, (this.#held.get(entry.job.queue) ?? 1) - 1);
    this.#wakeQueue(entry.job.queue);
    if (this.#running.size === 0) {
      const waiters = this.#settledWaiters;
      this.#settledWaiters = [];
      for (const w of waiters) w();
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
    if (this.#running.size === 0) return;
    await this.#heartbeatOf([...this.#running.values()]);
  }

  async #heartbeatOf(entries: RunningJob[]): Promise<void> {
    const live = entries.filter((e) => e.abortReason !== "lease-lost");
    if (live.length === 0) return;
    try {
      const results = await this.#store.jobs.heartbeat(
        live.map((e) => e.ref),
        this.#settings.leaseMs,
      );
      for (const result of results) {
        const entry = this.#running.get(result.id);
        if (entry === undefined) continue;
        if (!result.held) {
          this.counters.lostLeases++;
          this.#log.warn(
            { jobId: result.id, kind: entry.job.kind },
            "lost the lease of a running job; aborting it without writing",
          );
          abort(entry, "lease-lost");
        } else if (result.cancelRequested) {
          abort(entry, "cancel");
        }
      }
    } catch (err) {
      this.#log.warn(
        { err },
        "renewing job leases failed; will retry (jobs are rescued if their lease lapses)",
      );
    }
  }

  #onCancelNotice(id: string): void {
    const entry = this.#running.get(id);
    if (entry !== undefined) abort(entry, "cancel");
    else if (id === "*" && this.#running.size > 0) void this.#heartbeat();
  }
}

/** Aborts a running handler. The first reason wins, except that a lost lease always wins: then nothing may be written. */
function abort(entry: RunningJob, reason: AbortReason): void {
  if (entry.abortReason === "lease-lost") return;
  if (entry.abortReason !== null && reason !== "lease-lost") return;
  entry.abortReason = reason;
  entry.controller.abort(reason);
}
