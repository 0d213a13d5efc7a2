import type { Logger } from "pino";

/**
 * Where an error reported to `onError` happened: the part, what happened, and the ids that
 * find it again (never the payload).
 */
export interface ErrorContext {
  part: "jobs" | "converge" | "inbox" | "lifecycle" | "supervise";
  /**
   * `job.failed` (an attempt failed, will retry), `job.discarded` (no attempt left),
   * `task.failed` (a Task failed or crashed), `converger.error`, `inbox.failed`, `worker.crashed`
   * (the supervisor's hook: see `WorkerCrashContext`).
   */
  event:
    "job.failed" | "job.discarded" | "task.failed" | "converger.error" | "inbox.failed" | "worker.crashed";
  jobId?: string;
  kind?: string;
  queue?: string;
  attempt?: number;
  maxAttempts?: number;
  converger?: string;
  key?: string;
  inbox?: string;
  file?: string;
  task?: string;
  workerId?: string;
  pid?: number;
}

/** An error hook (`createApp({ onError })`, `app.onError(fn)`). */
export type ErrorHook = (error: unknown, context: ErrorContext) => void | Promise<void>;

/**
 * Calls every error hook for one error. A hook that throws or rejects is logged and never
 * breaks the runtime.
 *
 * @example
 * ```ts
 * const errors = new ErrorReporter(log);
 * errors.add((err, ctx) => Sentry.captureException(err, { extra: ctx }));
 * errors.report(err, { part: "jobs", event: "job.failed", jobId: "42" });
 * ```
 */
export class ErrorReporter {
  readonly #hooks: ErrorHook[] = [];
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  get size(): number {
    return this.#hooks.length;
  }

  add(hook: ErrorHook): void {
    this.#hooks.push(hook);
  }

  report(error: unknown, context: ErrorContext): void {
    for (const hook of this.#hooks) {
      try {
        const result = hook(error, context);
        if (result !== undefined && typeof (result as Promise<void>).then === "function") {
          (result as Promise<void>).then(undefined, (err: unknown) => this.#failed(err, context));
        }
      } catch (err) {
        this.#failed(err, context);
      }
    }
  }

  #failed(err: unknown, context: ErrorContext): void {
    this.#log.error({ err, context }, "an onError hook threw; the error it was given is in context");
  }
}
