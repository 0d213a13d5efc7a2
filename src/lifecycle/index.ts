/**
 * The lifecycle part: Tasks, the Manager that runs them, signals, `main()`, periodic tasks,
 * a limiter and durations. See docs/lifecycle.md.
 */

export type { Cleanup, CleanupOptions } from "./cleanup.ts";
export { LIFECYCLE_CODES, type LifecycleCode } from "../errors/codes/lifecycle.ts";
export { currentTask } from "./context.ts";
export { type Duration, MAX_TIMER_MS, parseDuration, parseTimeout } from "./duration.ts";
export { type FailureKind, isAbortError, ManagerError } from "./errors.ts";
export { type EveryOptions, every, nextRunDelay } from "./every.ts";
export { Limiter } from "./limiter.ts";
export {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_SHUTDOWN_TIMEOUT,
  exitCodeFor,
  type MainOptions,
  type MainSetup,
  main,
} from "./main.ts";
export { Manager, type ManagerOptions, type ManagerState } from "./manager.ts";
export {
  DEFAULT_SIGNALS,
  type SignalTask,
  type SignalTaskOptions,
  signalExitCode,
  signalTask,
} from "./signals.ts";
export { type Task, type TaskLike, toTask } from "./task.ts";
export { defaultWorkerId } from "./worker-id.ts";
