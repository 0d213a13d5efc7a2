/**
 * Error codes of the lifecycle part (see docs/errors.md). Keys are the codes; values their meaning.
 *
 * @example
 * ```ts
 * console.log(LIFECYCLE_CODES.TEND_E_SHUTDOWN_TIMEOUT);
 * ```
 */
export const LIFECYCLE_CODES = {
  TEND_E_INVALID_TASK:
    "Something that is not a Task (an object with a name and run) or a named function was registered.",
  TEND_E_DUPLICATE_TASK:
    "A task was registered under the name of a task that is still running in the same Manager.",
  TEND_E_INVALID_TIMEOUT:
    "A timeout is not a positive duration (ms number or string like `30s`) up to 2^31-1 ms.",
  TEND_E_INVALID_DURATION:
    "A duration is not a non-negative ms number or a string like `250ms`, `30s`, `5m`, `1h30m`.",
  TEND_E_INVALID_INTERVAL:
    "A periodic task's interval or jitter is not a valid duration (interval must be positive).",
  TEND_E_UNKNOWN_SIGNAL:
    "A signal name is not a signal this platform knows, or one that cannot be caught (SIGKILL, SIGSTOP).",
  TEND_E_INVALID_CLEANUP: "A cleanup registered with Manager.cleanup is not a function.",
  TEND_E_INVALID_CONCURRENCY: "A Limiter's concurrency is not a positive integer.",
  TEND_E_INVALID_LIFECYCLE_OPTION:
    "An option given to Manager, main, every or signalTask has the wrong type, or manager.stop's reason is not a string, or Limiter.acquire's signal is not an AbortSignal.",
  TEND_E_INVALID_LOG_OPTIONS:
    "The settings given to createLogger are not an options object, or a setting has the wrong type or value (level not one of pino's levels, including a bad TEND_LOG_LEVEL); or flushLogger was given something that is not a logger, or a bad timeout.",
  TEND_E_MANAGER_STOPPED:
    "A task or cleanup was registered after the Manager began shutting down or stopped.",
  TEND_E_SHUTDOWN_TIMEOUT:
    "Tasks were still running when the shutdown timeout ran out; the error names them.",
  TEND_E_TASK_FAILED:
    "A task threw, rejected, or caused an uncaught exception or unhandled rejection; `cause` holds the error.",
  TEND_E_UNCAUGHT_EXCEPTION:
    "An uncaught exception or unhandled rejection that no task caused happened while a Manager ran.",
  TEND_E_CLEANUP_FAILED: "A cleanup threw or rejected; the other cleanups still ran.",
  TEND_E_CLEANUP_TIMEOUT: "A cleanup did not finish within its timeout; the other cleanups still ran.",
  TEND_E_HOOK_FAILED: "An onShutdownStart listener threw; shutdown went on.",
  TEND_E_RUN_TIMEOUT: "One run of a periodic task (every) took longer than its timeout option.",
} as const satisfies Record<`TEND_E_${string}`, string>;

/** A code of the lifecycle part. */
export type LifecycleCode = keyof typeof LIFECYCLE_CODES;
