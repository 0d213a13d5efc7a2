import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Task } from "../lifecycle/index.ts";
import {
  type ClaimedJob,
  type Completion,
  type Failure,
  isStoreUnavailable,
  type LeaseRef,
  type ProgressUpdate,
  type SnoozeRequest,
  type Store,
} from "../store/index.ts";
import { abortSignalOf, type AttemptDeps, type RunningJob, runAttempt, skipAttempt } from "./attempt.ts";
import type { JobDefinition } from "./definition.ts";
import type { JobObserver } from "./observer.ts";
import type { AbortReason } from "./outcome.ts";
import { isLockTimeout, outcomeRetryWait, retryableOutcomeError } from "./outcome-retry.ts";
import { QueueState } from "./queue-state.ts";
import { type SplitPolicy, WriteBatcher } from "./write-batcher.ts";

/** At most one lease renewal this often for change notices that name no job (see #unattributedCancelCheck). */
const UNATTRIBUTED_CANCEL_CHECK_MS = 250;

/** At most one read of the queues' paused flags this often on change notices (see #pauseCheck). */
const PAUSE_CHECK_MS = 100;

/** Settings of the job worker. */
export interface WorkerSettings {
  workerId: string;
  /** Queue name to concurrency (jobs of that queue run at once in this process). */
  queues: ReadonlyMap<string, number>;
  leaseMs: number;
  /** Fallback poll when no wake-up arrives (scheduled jobs, lost notifications). */
  pollIntervalMs: number;
  /** Jobs per queue claimed ahead of free slots (0: claim only for free slots; null: adapt). */
  prefetch: number | null;
  /** On stop, how long in-flight jobs may run before their signals abort. */
  drainTimeoutMs: number;
  /** After aborting, how long handlers get to return before their jobs are released anyway. */
  abortGraceMs: number;
  maxResultBytes: number;
  /** Least interval between two progress writes of one running job. */
  progressIntervalMs: number;
  log: Logger;
  /** What watches attempts (metrics, traces, the error hook), if anything. */
  observer?: JobObserver | undefined;
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
  readonly #progress: WriteBatcher<ProgressUpdate, string[]>;
  readonly #snoozes: WriteBatcher<SnoozeRequest, string[]>;
  /** Start marks of jobs claimed ahead waiting for the mark in flight (see #queueMark). */
  #marks: ClaimedJob[] = [];
  #marking: Promise<void> | null = null;
  /** Aborted on stop: from then on no buffered job starts (they are returned instead). */
  #stop: AbortSignal | null = null;
  #lastCompletionAt: number | null = null;
  /** Per job kind, what its attempts share (see #attemptDeps). */
  readonly #depsByKind = new Map<string, AttemptDeps>();
  /** Where every attempt writes its outcome, and counts it (shared: nothing in them is per job). */
  readonly #writes: AttemptDeps["writes"] = {
    complete: (c) => this.#persist(() => this.#completions.add(c)),
    fail: (f) => this.#persist(() => this.#failures.add(f)),
    release: (r) => this.#persist(() => this.#releases.add(r)),
    cancel: (r) => this.#persist(() => this.#cancels.add(r)),
    // Best effort: the next value, or the outcome, supersedes a lost one.
    progress: (p) => this.#progress.add(p),
    snooze: (s) => this.#persist(() => this.#snoozes.add(s)),
  };
  readonly #onOutcome: AttemptDeps["onOutcome"] = (outcome) => {
    this.counters[outcome]++;
    if (outcome === "completed") this.#lastCompletionAt = Date.now();
  };
  #settledWaiters: Array<() => void> = [];
  #cancelCheckTimer: NodeJS.Timeout | null = null;
  /** The quick heartbeat after one that could not extend a lease (see #renewSoon). */
  #renewSoonTimer: NodeJS.Timeout | null = null;
  #lastCancelCheckAt = 0;
  #pauseCheckTimer: NodeJS.Timeout | null = null;
  #lastPauseCheckAt = 0;
  /** Reads of the paused flags begun, and the number of the latest one applied (see #readPaused). */
  #pauseReadsBegun = 0;
  #pauseReadApplied = 0;

  constructor(store: Store, definitions: ReadonlyMap<string, JobDefinition>, settings: WorkerSettings) {
    this.#store = store;
    this.#definitions = definitions;
    this.#settings = settings;
    this.#log = settings.log;
    // A batch the database refuses is written again one item at a time: one job's bad data must
    // not keep the others of its batch from being recorded.
    const split = (what: string): { split: SplitPolicy } => ({
      split: {
        // A lock timeout is one row's: another transaction holds it (see outcome-retry.ts).
        retrySingly: (err) => !isStoreUnavailable(err) || isLockTimeout(err),
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
    this.#progress = new WriteBatcher((items) => store.jobs.progress(items), split("progress values"));
    this.#snoozes = new WriteBatcher((items) => store.jobs.snooze(items), split("snoozes"));
    for (const [queue, concurrency] of settings.queues) {
      this.#queues.set(queue, new QueueState(queue, concurrency, settings.prefetch));
    }
  }

  /**
   * Writes a job's outcome, and writes it again while the store times out or cannot be reached,
   * as long as the job's lease may hold (see outcome-retry.ts). A stop cuts a wait short for one
   * last write; after that the job is left to be rescued when its lease lapses. The first write is
   * a plain call (the hot path, once per job); the loop begins only after it failed.
   */
  #persist<R>(write: () => Promise<R>): Promise<R> {
    return write().catch((err: unknown) => this.#writeAgain(write, err));
  }

  async #writeAgain<R>(write: () => Promise<R>, firstErr: unknown): Promise<R> {
    const firstFailureAt = Date.now();
    let err = firstErr;
    for (let failures = 1; ; failures++) {
      const wait = retryableOutcomeError(err)
        ? outcomeRetryWait(failures, Date.now() - firstFailureAt, this.#settings.leaseMs)
        : null;
      if (wait === null || this.#stop?.aborted === true) throw err;
      this.#log.warn(
        { err, retryInMs: wait },
        "recording a job's outcome failed; writing it again while its lease holds",
      );
      // A stop cuts the wait short: one last write, then no more.
      const stop = this.#stop;
      await sleep(wait, undefined, stop === null ? undefined : { signal: stop }).catch(() => undefined);
      try {
        return await write();
      } catch (again) {
        err = again;
      }
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
    this.#stop = signal;
    const { notifier } = this.#store;
    const unlisten = await Promise.all([
      notifier.listen(
        "jobs",
        (queue) => this.#wakeQueue(queue, true),
        () => this.#wakeQueue("*", true),
      ),
      notifier.listen("cancel", (id) => this.#onCancelNotice(id)),
      notifier.listen(
        "queues",
        () => this.#pauseCheck(),
        () => this.#pauseCheck(),
      ),
    ]);
    await this.#readPaused();
    const heartbeat = setInterval(
      () => void this.#heartbeat(),
      Math.max(50, Math.floor(this.#settings.leaseMs / 3)),
    );
    heartbeat.unref();
    // Notices can be lost (a reconnect): the paused flags are also read once per poll interval.
    const pauseRead = setInterval(() => this.#pauseCheck(), this.#settings.pollIntervalMs);
    pauseRead.unref();
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
      clearInterval(pauseRead);
      if (this.#cancelCheckTimer !== null) clearTimeout(this.#cancelCheckTimer);
      this.#cancelCheckTimer = null;
      if (this.#renewSoonTimer !== null) clearTimeout(this.#renewSoonTimer);
      this.#renewSoonTimer = null;
      if (this.#pauseCheckTimer !== null) clearTimeout(this.#pauseCheckTimer);
      this.#pauseCheckTimer = null;
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
        q.beforeClaim();
        let claimed: ClaimedJob[];
        try {
          claimed = await this.#store.jobs.claim({
            queue: q.name,
            limit: size,
            workerId: this.#settings.workerId,
            leaseMs: this.#settings.leaseMs,
            start: q.startNow(size),
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
        if (q.paused && claimed.length > 0) {
          // The pause was read while this claim was in flight: its jobs go back, as the buffer's did.
          await this.#returnJobs(
            claimed,
            "returning the jobs a claim took as its queue was paused failed; they are rescued when their lease lapses",
          );
          continue;
        }
        q.afterClaim(size, claimed.length);
        q.held += claimed.length;
        q.buffer.push(...claimed);
        q.drained = claimed.length < size;
        q.noteClaimed(claimed, Date.now());
        if (q.drained) q.nextPollAt = q.pollAfterDrain(Date.now(), this.#settings.pollIntervalMs);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      q.stopPolling();
    }
  }

  /**
   * Starts buffered jobs while the queue has free handler slots. A job the claim marked started
   * runs at once. For jobs claimed ahead, the start mark is sent first (one statement for the jobs
   * starting together, dispatched before any of their handlers' code runs unless a mark is in
   * flight), and the handlers start without waiting for it: a worker that dies holding jobs it
   * never started spends none of their attempts, at the cost of a window of one round trip in
   * which a job that did start is counted as never started.
   */
  #startBuffered(q: QueueState): void {
    // A handler that returns at once frees its slot inside #start: this loop takes it.
    if (q.starting || q.paused || this.#stop?.aborted === true) return;
    q.starting = true;
    try {
      while (q.running < q.concurrency) {
        const job = q.buffer.shift();
        if (job === undefined) break;
        this.#start(job, q);
      }
    } finally {
      q.starting = false;
    }
  }

  /**
   * Queues the start mark of a job claimed ahead; sends it at once when no mark is in flight
   * (the statement is on the wire before the job's handler code runs), else with the next batch.
   */
  #queueMark(job: ClaimedJob): void {
    this.#marks.push(job);
    if (this.#marking === null) this.#marking = this.#sendMarks();
  }

  async #sendMarks(): Promise<void> {
    try {
      while (this.#marks.length > 0) {
        // A job whose handler already returned needs no mark: its outcome's write records the
        // start (a death before that write counts it as never started, as within a mark's trip).
        const jobs = this.#marks.filter((job) => {
          const entry = this.#running.get(job.id);
          return entry !== undefined && entry.job === job && !entry.handlerReturned;
        });
        this.#marks = [];
        if (jobs.length === 0) continue;
        try {
          // A claimed job is its own lease ref (id, leaseToken).
          const held = await this.#store.jobs.markStarted(jobs);
          if (held.length < jobs.length) this.#lostBeforeStart(jobs, held);
        } catch (err) {
          this.#log.warn(
            { err, jobs: jobs.length },
            "marking jobs claimed ahead as started failed; if this worker dies now, they count as never started",
          );
        }
      }
    } finally {
      this.#marking = null;
    }
  }

  /** Aborts the jobs whose start mark found their lease lost (rescued or cancelled meanwhile). */
  #lostBeforeStart(jobs: readonly ClaimedJob[], held: readonly string[]): void {
    const ids = new Set(held);
    for (const job of jobs) {
      if (ids.has(job.id)) continue;
      const entry = this.#running.get(job.id);
      // A job whose handler already returned lost nothing: its own outcome's write committed
      // before the mark (or that fenced write will find the lease lost and say so), as the
      // heartbeat judges it.
      if (entry === undefined || entry.job !== job || entry.handlerReturned) continue;
      // Counted once, as the aborted attempt ends (outcome lostLeases).
      this.#log.warn(
        { jobId: job.id, kind: job.kind },
        "a job claimed ahead lost its lease before it started; aborting it without writing",
      );
      abort(entry, "lease-lost");
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
      controller: null,
      abortReason: null,
      handlerReturned: false,
    };
    // An earlier attempt of this job still running here lost its lease (the job could not have
    // been claimed again otherwise): abort it, as a heartbeat would have, before the new attempt
    // takes its place in the running map.
    const earlier = this.#running.get(job.id);
    if (earlier !== undefined && !earlier.handlerReturned && earlier.abortReason !== "lease-lost") {
      this.#log.warn(
        { jobId: job.id, kind: job.kind, attempt: earlier.job.attempt },
        "a running attempt lost its lease and its job was claimed again; aborting the old attempt without writing",
      );
      abort(earlier, "lease-lost");
    }
    this.#running.set(job.id, entry);
    q.running++;
    // A job claimed ahead: its start mark is dispatched before any of its handler's code runs
    // (runAttempt reaches a handler without waiting when the payload's validation is synchronous).
    if (!job.started) {
      job.started = true;
      if (job.suspect === true) {
        void this.#startCarefully(entry);
        return;
      }
      this.#queueMark(job);
    }
    void runAttempt(entry, this.#attemptDeps(job.kind));
  }

  /**
   * Starts a job claimed ahead that a rescue returned unstarted from a lost worker before (see
   * ClaimedJob.suspect): its handler may block the event loop at once, before a start mark sent
   * alongside it, or the outcomes of the jobs that ran before it, reach the database. Then the
   * blocked worker's rescue would return it unstarted again, never counting it toward maxLost,
   * and count the jobs before it as lost instead. So its handler runs only once every write queued
   * before it and its own start mark are durable: one round trip, for such jobs only.
   */
  async #startCarefully(entry: RunningJob): Promise<void> {
    const { job } = entry;
    let held = true;
    try {
      // A turn first: the attempt that freed this slot queues its outcome right after this call.
      await new Promise((resolve) => setImmediate(resolve));
      await this.#flushWrites();
      held = (await this.#store.jobs.markStarted([job])).includes(job.id);
    } catch (err) {
      this.#log.warn(
        { err, jobId: job.id, kind: job.kind },
        "recording the careful start of a job a lost worker returned unstarted failed; starting it anyway",
      );
    }
    const deps = this.#attemptDeps(job.kind);
    if (!held || entry.abortReason === "lease-lost") {
      this.#log.warn(
        { jobId: job.id, kind: job.kind },
        "a job claimed ahead lost its lease before it started; not running it",
      );
      skipAttempt(entry, deps);
      return;
    }
    void runAttempt(entry, deps);
  }

  /** What runAttempt needs for jobs of one kind: made once per kind, shared by its attempts. */
  #attemptDeps(kind: string): AttemptDeps {
    let deps = this.#depsByKind.get(kind);
    if (deps !== undefined) return deps;
    deps = {
      definition: this.#definitions.get(kind),
      log: this.#log,
      maxResultBytes: this.#settings.maxResultBytes,
      progressIntervalMs: this.#settings.progressIntervalMs,
      abortGraceMs: this.#settings.abortGraceMs,
      heartbeat: (entry) => this.#heartbeatOf([entry], []),
      dependencies: (id) => this.#store.jobs.dependencies(id),
      // The slot frees when the handler returns (the next buffered job starts at once, even while
      // a claim is in flight); its outcome is written in the next batch.
      handlerDone: (entry) => {
        entry.handlerReturned = true;
        const q = this.#queueOf(entry);
        q.running--;
        q.finished++;
        this.#startBuffered(q);
        q.wake(false);
      },
      settled: (entry) => this.#settle(entry, this.#queueOf(entry)),
      writes: this.#writes,
      onOutcome: this.#onOutcome,
      observer: this.#settings.observer,
    };
    // An unknown kind is not kept: a definition added later is found by its next attempt.
    if (deps.definition !== undefined) this.#depsByKind.set(kind, deps);
    return deps;
  }

  /** The state of the queue a running job was claimed from. */
  #queueOf(entry: RunningJob): QueueState {
    const q = this.#queues.get(entry.job.queue);
    if (q === undefined) throw new Error(`tend internal error: no state for queue ${entry.job.queue}`);
    return q;
  }

  #settle(entry: RunningJob, q: QueueState): void {
    // Only this attempt's own entry: a later attempt of the same job may have taken its place.
    if (this.#running.get(entry.job.id) === entry) this.#running.delete(entry.job.id);
    q.held--;
    // A keyed job's end frees a slot of its key in the store: jobs of that key may be claimable.
    q.wake(entry.job.concurrencyKey != null || entry.job.capped === true);
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
      this.#marking ?? Promise.resolve(),
      this.#completions.flush(),
      this.#failures.flush(),
      this.#releases.flush(),
      this.#cancels.flush(),
      this.#progress.flush(),
      this.#snoozes.flush(),
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
    // The token each reply speaks of (null: the id was sent twice, the reply is ambiguous). By
    // the time a reply comes back, the job may be held under a newer lease (the attempt snoozed
    // or failed, and the job was claimed again): a reply about the old lease must not touch it.
    const sent = new Map<string, string | null>();
    for (const r of refs) sent.set(r.id, sent.has(r.id) ? null : r.leaseToken);
    try {
      const results = await this.#store.jobs.heartbeat(refs, this.#settings.leaseMs);
      const cancelled: LeaseRef[] = [];
      // A lease held but not extended (its row locked by another transaction): renew again soon,
      // so that it is extended right after that transaction ends rather than a third of a lease on.
      if (results.some((r) => r.held && r.renewed === false)) this.#renewSoon();
      for (const result of results) {
        if (result.held && !result.cancelRequested) continue;
        const token = sent.get(result.id);
        if (token == null) continue;
        const entry = this.#running.get(result.id);
        if (entry !== undefined && entry.ref.leaseToken === token) {
          // Its handler already returned: the row is no longer running because this process
          // just wrote its outcome (or that fenced write will find the lease lost and say so).
          // Only a job whose handler still runs can have lost its lease to someone else.
          if (entry.handlerReturned === true) continue;
          if (!result.held) {
            // Counted once, as the aborted attempt ends (outcome lostLeases).
            this.#log.warn(
              { jobId: result.id, kind: entry.job.kind },
              "lost the lease of a running job; aborting it without writing",
            );
            abort(entry, "lease-lost");
          } else abort(entry, "cancel");
          continue;
        }
        const job = this.#unbuffer(result.id, token);
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

  /** Runs a heartbeat in {@link RENEW_SOON_MS} unless one is already due then. */
  #renewSoon(): void {
    if (this.#renewSoonTimer !== null) return;
    this.#renewSoonTimer = setTimeout(() => {
      this.#renewSoonTimer = null;
      void this.#heartbeat();
    }, RENEW_SOON_MS);
    this.#renewSoonTimer.unref();
  }

  /** Removes a job held under `leaseToken` from its queue's buffer (lost or cancelled before it started). */
  #unbuffer(id: string, leaseToken: string): ClaimedJob | undefined {
    for (const q of this.#queues.values()) {
      const i = q.buffer.findIndex((j) => j.id === id && j.leaseToken === leaseToken);
      if (i === -1) continue;
      const [job] = q.buffer.splice(i, 1);
      q.held--;
      q.wake(false);
      return job;
    }
    return undefined;
  }

  /**
   * A queue's settings changed (PostgreSQL: a notice naming it; SQLite: "another process
   * committed something"): reads the paused flags again, at most once per PAUSE_CHECK_MS (the
   * last notice of a window is never dropped).
   */
  #pauseCheck(): void {
    if (this.#pauseCheckTimer !== null || this.#stop?.aborted === true) return;
    const wait = Math.max(0, this.#lastPauseCheckAt + PAUSE_CHECK_MS - Date.now());
    this.#pauseCheckTimer = setTimeout(() => {
      this.#pauseCheckTimer = null;
      this.#lastPauseCheckAt = Date.now();
      void this.#readPaused();
    }, wait);
    this.#pauseCheckTimer.unref();
  }

  /**
   * Reads which of this worker's queues are paused. A queue that became paused returns the jobs
   * it claimed ahead (never started) to the store without spending their attempt; its running
   * jobs finish. A queue that was resumed claims again at once.
   */
  async #readPaused(): Promise<void> {
    // Reads may overlap (a slow one and the next notice's); only the latest begun one that has
    // answered counts, so that a slow read from before a resume cannot pause the queue again.
    const read = ++this.#pauseReadsBegun;
    let paused: Set<string>;
    try {
      const settings = await this.#store.jobs.listQueues();
      if (read < this.#pauseReadApplied) return;
      this.#pauseReadApplied = read;
      paused = new Set(settings.filter((s) => s.paused).map((s) => s.queue));
    } catch (err) {
      this.#log.debug(
        { err },
        "reading the queues' paused flags failed; the claim still refuses paused queues",
      );
      return;
    }
    const returned: LeaseRef[] = [];
    for (const q of this.#queues.values()) {
      const now = paused.has(q.name);
      if (now === q.paused) continue;
      q.paused = now;
      this.#log.info(
        { queue: q.name },
        now ? "queue paused: claiming nothing more from it" : "queue resumed",
      );
      if (now) {
        const jobs = q.buffer.splice(0);
        q.held -= jobs.length;
        for (const job of jobs) returned.push({ id: job.id, leaseToken: job.leaseToken });
      } else {
        q.wake(true);
      }
    }
    await this.#returnJobs(
      returned,
      "returning the jobs claimed ahead of a paused queue failed; they are rescued when their lease lapses",
    );
  }

  /** Gives held jobs that never started back to the store, their attempts not spent. */
  async #returnJobs(jobs: readonly LeaseRef[], failure: string): Promise<void> {
    if (jobs.length === 0) return;
    try {
      await this.#store.jobs.release(jobs.map((j) => ({ id: j.id, leaseToken: j.leaseToken })));
      this.counters.released += jobs.length;
    } catch (err) {
      this.#log.warn({ err, jobs: jobs.length }, failure);
    }
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

/** How soon a lease that a heartbeat found locked (held, not extended) is renewed again. */
const RENEW_SOON_MS = 1_000;

/** Aborts a running handler. The first reason wins, except that a lost lease always wins: then nothing may be written. */
function abort(entry: RunningJob, reason: AbortReason): void {
  if (entry.abortReason === "lease-lost") return;
  if (entry.abortReason !== null && reason !== "lease-lost") return;
  entry.abortReason = reason;
  abortSignalOf(entry, reason);
}
