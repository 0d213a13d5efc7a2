/**
 * The lifecycle part: Tasks, the Manager that runs them, signals, `main()`, periodic tasks,
 * a limiter and durations. See docs/lifecycle.md. This file is the part's face towards the rest
 * of tend (src/index.ts re-exports its public names); everything else in this folder is internal.
 */

export type { Cleanup, CleanupOptions } from "./cleanup.ts";
export {
  type Duration,
  type DurationLimits,
  durationFromText,
  MAX_TIMER_MS,
  parseDuration,
  parseTimeout,
} from "./duration.ts";
export { currentTask } from "./context.ts";
export { ManagerError } from "./errors.ts";
export { type EveryOptions, every, nextRunDelay } from "./every.ts";
export { Limiter } from "./limiter.ts";
export { type LinkedSignal, linkSignals } from "./linked-signal.ts";
export { EXIT_FAILURE, EXIT_OK, EXIT_SHUTDOWN_TIMEOUT, exitCodeFor, type MainOptions, main } from "./main.ts";
export { Manager, type ManagerOptions } from "./manager.ts";
export { type SignalTaskOptions, signalTask } from "./signals.ts";
export { type Task, type TaskLike, toTask } from "./task.ts";
export { defaultWorkerId } from "./worker-id.ts";
