/**
 * tend: one runtime for a TypeScript service's background life. The public API, exported by
 * name; anything not exported here is internal and may change.
 */
export { App, type AppOptions, type Component, createApp } from "./app.ts";
export {
  AppConvergers,
  type AppConvergersOptions,
  clearParkedKeys,
  type ConvergeContext,
  type ConvergeOutcome,
  type Converger,
  type ConvergerDefinition,
  type ConvergerMetrics,
  createConverger,
  type FindContext,
  type Inconsistency,
  installWakeTrigger,
  isTerminalError,
  listParkedKeys,
  type TerminalKey,
  TerminalError,
  type WakeOn,
} from "./converge/index.ts";
export { ERROR_CODES, type ErrorCode } from "./errors/index.ts";
export type { HttpOptions, ReadinessReport } from "./http/index.ts";
export { isTendError, TendError } from "./errors/index.ts";
export {
  type BackoffOptions,
  type BackoffPolicy,
  type Batch,
  type BatchItemResult,
  type BatchWaitOptions,
  type CronEntryState,
  type CronOptions,
  type CronOverlap,
  type CronScheduleOptions,
  DEFAULT_BACKOFF,
  type EnqueueItem,
  type EnqueueOptions,
  type InsertOutcome,
  type InsertResult,
  type JobContext,
  type JobError,
  type JobHandler,
  type JobKindOptions,
  type JobRecord,
  JobSnooze,
  type JobState,
  Jobs,
  type JobsOptions,
  type Json,
  type ListFilter,
  type QueueStats,
  retryDelay,
  type StandardSchema,
  type UniqueMode,
  type WorkerCounters,
} from "./jobs/index.ts";
export {
  createInbox,
  type Inbox,
  type InboxContext,
  type InboxCounters,
  type InboxFile,
  type InboxOptions,
  type ProcessFile,
} from "./inbox/index.ts";
export {
  type Cleanup,
  type CleanupOptions,
  type Duration,
  type EveryOptions,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_SHUTDOWN_TIMEOUT,
  every,
  Limiter,
  type MainOptions,
  Manager,
  ManagerError,
  type ManagerOptions,
  main,
  parseDuration,
  type SignalTaskOptions,
  signalTask,
  type Task,
  type TaskLike,
} from "./lifecycle/index.ts";
export { createLogger, flushLogger, type Logger, type LoggerSettings } from "./log/index.ts";
export { DEFAULT_DATABASE_URL, openStore, type StoreOptions } from "./store/index.ts";
export {
  createSupervisor,
  renderSystemdUnit,
  type RestartOptions,
  readStatusFile,
  type ScalingOptions,
  type SuperviseOptions,
  type SuperviseRunOptions,
  Supervisor,
  type SupervisorStatus,
  supervise,
  type UnitOptions,
  type WorkerStatus,
} from "./supervise/index.ts";
export type { Store } from "./store/index.ts";
