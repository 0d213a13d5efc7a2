import { describeValue, TendError } from "../errors/index.ts";

/**
 * What `Manager.wait()` rejects with: the first error of the run, with every error of the run
 * (that first one included, in the order they happened) in `errors`. Its `code`, `message`,
 * `details` and `cause` are the first error's, so a caller can branch on `code` alone; nothing that
 * failed later (another task, a cleanup, the shutdown timeout) is masked.
 *
 * @example
 * ```ts
 * try {
 *   await manager.wait();
 * } catch (err) {
 *   if (err instanceof ManagerError) for (const e of err.errors) console.error(e.code, e.message);
 * }
 * ```
 */
export class ManagerError extends TendError {
  /** Every error of the run, first first. Each is a TendError whose `cause` is the original error. */
  declare readonly errors: readonly TendError[];

  constructor(errors: readonly TendError[]) {
    const first = errors[0];
    if (first === undefined) throw new TypeError("ManagerError needs at least one error");
    const more = errors.length - 1;
    const suffix =
      more === 0
        ? ""
        : ` (and ${more} more: ${errors
            .slice(1)
            .map((e) => e.code)
            .join(", ")}; see .errors)`;
    super(first.code, `${first.message}${suffix}`, { details: { ...first.details }, cause: first.cause });
    this.name = "ManagerError";
    // Not enumerable, so that loggers show it once (pino lists it as `aggregateErrors`).
    Object.defineProperty(this, "errors", { value: Object.freeze([...errors]), enumerable: false });
  }
}

/** How a task's failure reached the Manager. */
export type FailureKind = "threw" | "rejected" | "uncaughtException" | "unhandledRejection";

/** The error for registering after shutdown began (`TEND_E_MANAGER_STOPPED`). */
export function managerStopped(what: string, state: string): TendError {
  return new TendError(
    "TEND_E_MANAGER_STOPPED",
    `Cannot register ${what}: the manager is ${state}. Register tasks and cleanups before shutdown begins; create a new Manager to start again.`,
    { details: { what, state } },
  );
}

/** The error for tasks still running when the shutdown budget ran out (`TEND_E_SHUTDOWN_TIMEOUT`). */
export function shutdownTimeout(tasks: readonly string[], timeoutMs: number): TendError {
  const names = tasks.map((t) => JSON.stringify(t)).join(", ");
  return new TendError(
    "TEND_E_SHUTDOWN_TIMEOUT",
    `Shutdown timed out after ${timeoutMs} ms; still running: ${names}. Make these tasks return promptly when their signal aborts, or raise shutdownTimeout.`,
    { details: { tasks: [...tasks], timeoutMs } },
  );
}

/** The error recording a task's failure (`TEND_E_TASK_FAILED`); `cause` is the original error. */
export function taskFailed(task: string, cause: unknown, kind: FailureKind): TendError {
  const how =
    kind === "threw" || kind === "rejected"
      ? "failed"
      : `caused an ${kind === "uncaughtException" ? "uncaught exception" : "unhandled rejection"}`;
  return new TendError("TEND_E_TASK_FAILED", `Task ${JSON.stringify(task)} ${how}: ${messageOf(cause)}`, {
    details: { task, kind },
    cause,
  });
}

/** The error for a crash no task caused (`TEND_E_UNCAUGHT_EXCEPTION`). */
export function uncaught(cause: unknown, kind: "uncaughtException" | "unhandledRejection"): TendError {
  const what = kind === "uncaughtException" ? "An uncaught exception" : "An unhandled rejection";
  return new TendError(
    "TEND_E_UNCAUGHT_EXCEPTION",
    `${what} outside any task stopped the manager: ${messageOf(cause)}`,
    { details: { kind }, cause },
  );
}

/** The error for a cleanup that threw (`TEND_E_CLEANUP_FAILED`). */
export function cleanupFailed(cleanup: string, cause: unknown): TendError {
  return new TendError(
    "TEND_E_CLEANUP_FAILED",
    `Cleanup ${JSON.stringify(cleanup)} failed: ${messageOf(cause)}`,
    {
      details: { cleanup },
      cause,
    },
  );
}

/** The error for a cleanup that outlived its timeout (`TEND_E_CLEANUP_TIMEOUT`). */
export function cleanupTimeout(cleanup: string, timeoutMs: number): TendError {
  return new TendError(
    "TEND_E_CLEANUP_TIMEOUT",
    `Cleanup ${JSON.stringify(cleanup)} did not finish within ${timeoutMs} ms; the next cleanups ran anyway. Make it honour its signal or give it a longer timeout.`,
    { details: { cleanup, timeoutMs } },
  );
}

/** The error for an onShutdownStart listener that threw (`TEND_E_HOOK_FAILED`). */
export function hookFailed(cause: unknown): TendError {
  return new TendError("TEND_E_HOOK_FAILED", `An onShutdownStart listener threw: ${messageOf(cause)}`, {
    cause,
  });
}

/**
 * True for the error a task throws because its signal aborted (an `AbortError`, or the signal's own reason).
 *
 * @example
 * ```ts
 * try { await work(signal); } catch (err) { if (!isAbortError(err, signal)) throw err; }
 * ```
 */
export function isAbortError(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted && err === signal.reason) return true;
  return err instanceof Error && err.name === "AbortError";
}

/** A one-line message for any thrown value. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return describeValue(err);
}
