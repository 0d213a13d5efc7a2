import type { Logger } from "pino";
import {
  checkFunction,
  checkObject,
  invalidArgument,
  optionKeys,
  rejectUnknownKeys,
  type TendError,
} from "../errors/index.ts";
import { createLogger } from "../log/index.ts";
import { type Cleanup, type CleanupOptions, type RegisteredCleanup, runCleanup } from "./cleanup.ts";

import { monotonicMs } from "./clock.ts";
import { type CrashSink, runInTaskContext, type TaskContext } from "./context.ts";
import { captureCrashes } from "./crash.ts";
import { type Duration, parseTimeout } from "./duration.ts";
import {
  cleanupFailed,
  type FailureKind,
  hookFailed,
  isAbortError,
  ManagerError,
  managerStopped,
  shutdownTimeout,
  taskFailed,
  uncaught,
} from "./errors.ts";
import { type TaskLike, toTask } from "./task.ts";

export type { Cleanup, CleanupOptions } from "./cleanup.ts";

/**
 * Where a Manager is in its life: `idle` (no task started yet), `running`, `stopping` (the shared
 * signal aborted; tasks are draining, then cleanups run) and `stopped` (`wait()` has its result).
 */
export type ManagerState = "idle" | "running" | "stopping" | "stopped";

/** Options for {@link Manager}. */
export interface ManagerOptions {
  /** Logger; the manager logs through `log.child({ part: "lifecycle" })`. Default: `createLogger()`. */
  log?: Logger;
  /** How long tasks may take to return once the signal aborts. Default `"30s"`. */
  shutdownTimeout?: Duration;
  /** Default timeout of each cleanup. Default `"5s"`. */
  cleanupTimeout?: Duration;
  /** Route uncaught exceptions and unhandled rejections to the task that caused them. Default true. */
  captureCrashes?: boolean;
}

interface Running {
  readonly name: string;
  readonly ephemeral: boolean;
  readonly startedAt: number;
}

const MANAGER_KEYS = optionKeys<ManagerOptions>({
  log: true,
  shutdownTimeout: true,
  cleanupTimeout: true,
  captureCrashes: true,
});
const CLEANUP_KEYS = optionKeys<CleanupOptions>({ name: true, timeout: true });

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
const DEFAULT_CLEANUP_TIMEOUT_MS = 5_000;

/**
 * Runs a service's Tasks under one shared AbortSignal. When a task started with {@link Manager.run}
 * ends (cleanly or not), or any task fails, the signal aborts and every task shuts down; once all
 * have returned (or the shutdown timeout ran out) the cleanups run, last registered first, and
 * {@link Manager.wait} settles with the outcome.
 *
 * @example
 * ```ts
 * const manager = new Manager({ shutdownTimeout: "20s" });
 * manager.run(signalTask());
 * manager.run(async function server(signal: AbortSignal) { await serve(signal); });
 * manager.cleanup(() => pool.end(), { name: "pool" });
 * await manager.wait(); // rejects with a ManagerError if anything failed
 * ```
 */
export class Manager {
  readonly #log: Logger;
  readonly #shutdownTimeoutMs: number;
  readonly #cleanupTimeoutMs: number;
  readonly #captureCrashes: boolean;
  readonly #controller = new AbortController();
  readonly #running = new Map<string, Running>();
  readonly #errors: TendError[] = [];
  readonly #cleanups: RegisteredCleanup[] = [];
  readonly #shutdownListeners = new Set<(reason: string) => void>();
  readonly #errorListeners = new Set<(error: TendError) => void>();
  readonly #sink: CrashSink;
  #state: ManagerState = "idle";
  #waitRequested = false;
  #finishing = false;
  #shutdownReason: string | undefined;
  #shutdownTimer: NodeJS.Timeout | undefined;
  #releaseCrashes: (() => void) | undefined;
  #resolveOutcome!: (outcome: ManagerError | undefined) => void;
  readonly #outcome = new Promise<ManagerError | undefined>((resolve) => {
    this.#resolveOutcome = resolve;
  });

  constructor(options: ManagerOptions = {}) {
    checkObject("TEND_E_INVALID_LIFECYCLE_OPTION", "options", options, "an options object");
    rejectUnknownKeys("Manager options", options, MANAGER_KEYS);
    this.#shutdownTimeoutMs =
      options.shutdownTimeout === undefined
        ? DEFAULT_SHUTDOWN_TIMEOUT_MS
        : parseTimeout(options.shutdownTimeout, "shutdownTimeout");
    this.#cleanupTimeoutMs =
      options.cleanupTimeout === undefined
        ? DEFAULT_CLEANUP_TIMEOUT_MS
        : parseTimeout(options.cleanupTimeout, "cleanupTimeout");
    this.#captureCrashes = options.captureCrashes ?? true;
    this.#log = (options.log ?? createLogger()).child({ part: "lifecycle" });
    this.#sink = { crash: (context, err, kind) => this.#crash(context, err, kind) };
  }

  /** The shared signal every task gets; it aborts when shutdown begins. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Where the manager is in its life; `running` is what a readiness probe wants. */
  get state(): ManagerState {
    return this.#state;
  }

  /** How long shutdown may take once it begins, in ms (the `shutdownTimeout` option). */
  get shutdownTimeoutMs(): number {
    return this.#shutdownTimeoutMs;
  }

  /** Why shutdown began (e.g. `task "server" failed`), or undefined while running. */
  get shutdownReason(): string | undefined {
    return this.#shutdownReason;
  }

  /** Names of the tasks running now. */
  get tasks(): readonly string[] {
    return [...this.#running.keys()];
  }

  /** The manager's logger (`part: "lifecycle"`). */
  get log(): Logger {
    return this.#log;
  }

  /**
   * Starts a task whose end, clean or not, shuts the manager down (the server, the worker loop,
   * the signal listener). Throws `TEND_E_INVALID_TASK`, `TEND_E_DUPLICATE_TASK` or
   * `TEND_E_MANAGER_STOPPED` at once.
   *
   * @example
   * ```ts
   * manager.run({ name: "heartbeat", run: (signal) => beat(signal) });
   * ```
   */
  run(task: TaskLike): void {
    this.#start(task, false);
  }

  /**
   * Starts a task that may finish cleanly without stopping the others (a one-time warm-up, a
   * migration); if it fails, the manager shuts down as for {@link Manager.run}.
   *
   * @example
   * ```ts
   * manager.runEphemeral(async function warmCache(signal: AbortSignal) { await cache.load(signal); });
   * ```
   */
  runEphemeral(task: TaskLike): void {
    this.#start(task, true);
  }

  /**
   * Registers work to do after every task has ended (close a shared pool, flush a buffer).
   * Cleanups run last registered first; each runs even if another failed, each under its own
   * timeout; their failures are added to the outcome of {@link Manager.wait}.
   *
   * @example
   * ```ts
   * const pool = new pg.Pool();
   * manager.cleanup(() => pool.end(), { name: "pg pool", timeout: "3s" });
   * ```
   */
  cleanup(fn: Cleanup, options: CleanupOptions = {}): void {
    checkFunction("TEND_E_INVALID_CLEANUP", "cleanup", fn, "a function (signal) => void | Promise<void>");
    rejectUnknownKeys("cleanup options", options, CLEANUP_KEYS);
    const timeoutMs =
      options.timeout === undefined
        ? this.#cleanupTimeoutMs
        : parseTimeout(options.timeout, "cleanup timeout");
    const name = options.name ?? (fn.name !== "" ? fn.name : `cleanup #${this.#cleanups.length + 1}`);
    if (this.#finishing) throw managerStopped(`cleanup ${JSON.stringify(name)}`, this.#state);
    this.#cleanups.push({ name, fn, timeoutMs });
  }

  /**
   * Calls `listener` (synchronously, with the reason) the moment shutdown begins, before the signal
   * aborts: the place to turn readiness off before tasks start draining. If shutdown has already
   * begun it is called at once. Returns a function that removes the listener.
   *
   * @example
   * ```ts
   * manager.onShutdownStart((reason) => { ready = false; log.info({ reason }, "not ready"); });
   * ```
   */
  onShutdownStart(listener: (reason: string) => void): () => void {
    checkFunction("TEND_E_INVALID_LIFECYCLE_OPTION", "listener", listener, "a function (reason) => void");
    if (this.#shutdownReason !== undefined) {
      this.#callListener(listener, this.#shutdownReason);
      return () => {};
    }
    this.#shutdownListeners.add(listener);
    return () => this.#shutdownListeners.delete(listener);
  }

  /**
   * Calls `listener` with every error the manager records (a task failed or crashed, a crash
   * outside any task, a cleanup failed, the shutdown timed out), as it is recorded: the place to
   * report them. A listener that throws is logged. Returns a function that removes it.
   *
   * @example
   * ```ts
   * manager.onError((error) => report(error, { task: error.details["task"] }));
   * ```
   */
  onError(listener: (error: TendError) => void): () => void {
    checkFunction("TEND_E_INVALID_LIFECYCLE_OPTION", "listener", listener, "a function (error) => void");
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  /**
   * Waits for the manager to finish: every task ended (or the shutdown timeout ran out) and every
   * cleanup ran. Resolves on a clean run; rejects with a {@link ManagerError} otherwise: the first
   * error, with all of them in `.errors`. Safe to call many times, concurrently: the same outcome
   * each time. With no task running and no shutdown begun, it finishes the manager at once.
   *
   * @example
   * ```ts
   * await manager.wait();
   * ```
   */
  wait(): Promise<void> {
    this.#waitRequested = true;
    this.#maybeFinish();
    return this.#outcome.then((error) => {
      if (error !== undefined) throw error;
    });
  }

  /**
   * Begins shutdown (if not begun) and waits, as {@link Manager.wait}. `reason` (text for the log
   * and the abort reason) must be a string: anything else throws `TEND_E_INVALID_LIFECYCLE_OPTION`
   * at once, and nothing changes.
   *
   * @example
   * ```ts
   * await manager.stop("tests are over");
   * ```
   */
  stop(reason = "stop() was called"): Promise<void> {
    // Checked before anything changes: a reason that cannot be made text must not leave the
    // manager half-way into shutdown (stopping, its signal never aborted).
    if (typeof reason !== "string")
      throw invalidArgument("TEND_E_INVALID_LIFECYCLE_OPTION", "stop reason", reason, "a string");
    this.#beginShutdown(reason);
    return this.wait();
  }

  #start(taskLike: TaskLike, ephemeral: boolean): void {
    const task = toTask(taskLike);
    const name = task.name;
    if (this.#shutdownReason !== undefined || this.#state === "stopped") {
      throw managerStopped(`task ${JSON.stringify(name)}`, this.#state);
    }
    if (this.#running.has(name)) {
      throw invalidArgument(
        "TEND_E_DUPLICATE_TASK",
        "task name",
        name,
        `a name no running task has (running: ${[...this.#running.keys()].join(", ")})`,
      );
    }
    if (this.#state === "idle") {
      this.#state = "running";
      if (this.#captureCrashes) this.#releaseCrashes = captureCrashes(this.#sink);
    }
    const entry: Running = { name, ephemeral, startedAt: monotonicMs() };
    this.#running.set(name, entry);
    this.#log.info({ task: name, ephemeral }, "task started");
    const context: TaskContext = { task: name, log: this.#log.child({ task: name }), sink: this.#sink };
    const signal = this.#controller.signal;
    let kind: FailureKind = "rejected";
    let promise: Promise<unknown>;
    try {
      promise = Promise.resolve(runInTaskContext(context, () => task.run(signal)));
    } catch (err) {
      // Reported a tick later, like a rejection, so that the caller's next registrations still succeed.
      kind = "threw";
      promise = Promise.reject(err);
    }
    promise.then(
      () => this.#ended(entry, undefined, undefined),
      (err: unknown) => this.#ended(entry, err, kind),
    );
  }

  #ended(entry: Running, err: unknown, kind: FailureKind | undefined): void {
    if (this.#running.get(entry.name) !== entry) {
      // Given up on at the shutdown timeout; it has returned at last.
      this.#log.warn(
        { task: entry.name, durationMs: Math.round(monotonicMs() - entry.startedAt), err },
        "task returned after the shutdown timeout",
      );
      return;
    }
    this.#running.delete(entry.name);
    const durationMs = Math.round(monotonicMs() - entry.startedAt);
    const signal = this.#controller.signal;
    if (kind !== undefined && !(signal.aborted && isAbortError(err, signal))) {
      this.#log.error({ task: entry.name, durationMs, err }, "task failed");
      this.#record(taskFailed(entry.name, err, kind));
      this.#beginShutdown(`task ${JSON.stringify(entry.name)} failed`);
    } else {
      this.#log.info({ task: entry.name, durationMs }, "task stopped");
      if (!entry.ephemeral) this.#beginShutdown(`task ${JSON.stringify(entry.name)} stopped`);
    }
    this.#maybeFinish();
  }

  #crash(
    context: TaskContext | undefined,
    err: unknown,
    kind: "uncaughtException" | "unhandledRejection",
  ): void {
    if (this.#state === "stopped") return;
    const task = context?.task;
    if (context?.cleanup === true) {
      this.#log.error({ cleanup: task, kind, err }, "cleanup crashed");
      this.#record(cleanupFailed(context.task, err));
      return;
    }
    this.#log.error({ task, kind, err }, task === undefined ? "crash outside any task" : "task crashed");
    this.#record(task === undefined ? uncaught(err, kind) : taskFailed(task, err, kind));
    this.#beginShutdown(task === undefined ? kind : `task ${JSON.stringify(task)} crashed`);
    this.#maybeFinish();
  }

  #record(error: TendError): void {
    if (this.#state === "stopped") {
      this.#log.warn({ err: error }, "error after the manager stopped (not in its outcome)");
      return;
    }
    this.#errors.push(error);
    for (const listener of this.#errorListeners) {
      try {
        listener(error);
      } catch (err) {
        this.#log.error({ err }, "onError listener failed");
      }
    }
  }

  #beginShutdown(reason: string): void {
    if (this.#shutdownReason !== undefined) return;
    this.#shutdownReason = reason;
    if (this.#state !== "stopped") this.#state = "stopping";
    this.#log.info({ reason, running: [...this.#running.keys()] }, "shutdown started");
    for (const listener of this.#shutdownListeners) this.#callListener(listener, reason);
    this.#shutdownListeners.clear();
    this.#controller.abort(new DOMException(`Shutdown: ${reason}`, "AbortError"));
    if (this.#running.size > 0 && !this.#finishing) {
      this.#shutdownTimer = setTimeout(() => this.#onShutdownTimeout(), this.#shutdownTimeoutMs);
    }
  }

  #callListener(listener: (reason: string) => void, reason: string): void {
    try {
      listener(reason);
    } catch (err) {
      this.#log.error({ err }, "onShutdownStart listener failed");
      this.#record(hookFailed(err));
    }
  }

  #onShutdownTimeout(): void {
    this.#shutdownTimer = undefined;
    if (this.#finishing || this.#running.size === 0) return;
    const names = [...this.#running.keys()];
    this.#log.error({ tasks: names, timeoutMs: this.#shutdownTimeoutMs }, "shutdown timed out");
    this.#record(shutdownTimeout(names, this.#shutdownTimeoutMs));
    this.#running.clear();
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#finishing || this.#running.size > 0) return;
    if (this.#shutdownReason === undefined && !this.#waitRequested) return;
    this.#finishing = true;
    if (this.#shutdownReason === undefined) this.#beginShutdown("all tasks finished");
    if (this.#shutdownTimer !== undefined) clearTimeout(this.#shutdownTimer);
    void this.#finish();
  }

  async #finish(): Promise<void> {
    // A manager stopped before any task ran still runs its cleanups under crash capture.
    if (this.#captureCrashes && this.#releaseCrashes === undefined && this.#cleanups.length > 0) {
      this.#releaseCrashes = captureCrashes(this.#sink);
    }
    for (const cleanup of [...this.#cleanups].reverse()) {
      await runCleanup(cleanup, { log: this.#log, sink: this.#sink, record: (error) => this.#record(error) });
    }
    this.#state = "stopped";
    this.#releaseCrashes?.();
    this.#releaseCrashes = undefined;
    const outcome = this.#errors.length === 0 ? undefined : new ManagerError(this.#errors);
    if (outcome === undefined) this.#log.info("manager stopped");
    else this.#log.debug({ errors: this.#errors.length }, "manager stopped with errors");
    this.#resolveOutcome(outcome);
  }
}
