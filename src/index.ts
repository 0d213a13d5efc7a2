/**
 * tend: one runtime for a TypeScript service's background life. The public API, exported by
 * name; anything not exported here is internal and may change.
 */
export { App, type AppOptions, type Component, createApp } from "./app.ts";
export { ERROR_CODES, type ErrorCode } from "./errors/catalogue.ts";
export { isTendError, TendError } from "./errors/tend-error.ts";
export {
  type BackoffPolicy,
  type Batch,
  type BatchItemResult,
  type BatchWaitOptions,
  type CronOptions,
  DEFAULT_BACKOFF,
  type EnqueueItem,
  type EnqueueOptions,
  type InsertResult,
  type JobContext,
  type JobError,
  type JobHandler,
  type JobKindOptions,
  type JobRecord,
  type JobState,
  Jobs,
  type JobsOptions,
  type Json,
  type ListFilter,
  type QueueStats,
  retryDelay,
  type StandardSchema,
  type WorkerCounters,
} from "./jobs/index.ts";
export {
  type Cleanup,
  type CleanupOptions,
  type Duration,
  type EveryOptions,
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
export { createLogger, type Logger, type LoggerSettings } from "./log/index.ts";
export { DEFAULT_DATABASE_URL, openStore, type StoreOptions } from "./store/open.ts";
export type { Store } from "./store/store.ts";
