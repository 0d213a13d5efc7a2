import type { Logger } from "../log/index.ts";

/** Where a worker crash happened, as given to the supervisor's `onError`. */
export interface WorkerCrashContext {
  part: "supervise";
  event: "worker.crashed";
  /** The worker's id (its jobs' lease holder). */
  workerId: string;
  pid: number;
  /** The worker's exit code, or null when a signal ended it. */
  exitCode: number | null;
  /** The signal that ended it (`SIGKILL`), or null. */
  signal: string | null;
  /** How long it ran (ms). */
  uptimeMs: number;
  /** Why the master killed it (`hung`, `stalled`, `start-timeout`), when it did. */
  problem?: string;
}

/** The supervisor's error hook (`supervise({ onError })`). */
export type SupervisorErrorHook = (error: unknown, context: WorkerCrashContext) => void | Promise<void>;

/**
 * Calls the supervisor's error hook; a hook that throws or rejects is logged and never breaks
 * the master.
 *
 * @example
 * ```ts
 * callCrashHook(options.onError, err, context, log);
 * ```
 */
export function callCrashHook(
  hook: SupervisorErrorHook | undefined,
  error: unknown,
  context: WorkerCrashContext,
  log: Logger,
): void {
  if (hook === undefined) return;
  const failed = (err: unknown): void =>
    log.error({ err, context }, "the supervisor's onError hook threw; the crash it was given is in context");
  try {
    const result = hook(error, context);
    if (result !== undefined && typeof (result as Promise<void>).then === "function")
      (result as Promise<void>).then(undefined, failed);
  } catch (err) {
    failed(err);
  }
}
