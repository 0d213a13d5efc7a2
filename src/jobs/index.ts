export { type BackoffPolicy, DEFAULT_BACKOFF, MAX_DELAY_MS, retryDelay } from "./backoff.ts";
export type { Batch, BatchItemResult, BatchWaitOptions } from "./batch.ts";
export { CRON_SEEN_EVERY_MS, type CronOptions, nextCronRuns } from "./cron.ts";
export { describeCron } from "./cron-words.ts";
export type { BackoffOptions, JobContext, JobHandler, JobKindOptions, StandardSchema } from "./definition.ts";
export type { EnqueueItem, EnqueueOptions } from "./enqueue.ts";
export type { AfterResult } from "./after-results.ts";
export type { FlowNode, FlowResult } from "./flow.ts";
export { JobSnooze } from "./snooze.ts";
export { type CronScheduleOptions, Jobs, type JobsOptions, type QueueLimits } from "./jobs.ts";
export { type QueueInfo, queueInfos } from "./queue-info.ts";
export { formatRate, parseRate, type QueueLimitsOptions, toQueueLimitsChange } from "./queue-limits.ts";
export type {
  CronEntryState,
  CronOverlap,
  InsertOutcome,
  InsertResult,
  UniqueMode,
  JobError,
  JobDependencies,
  JobLink,
  ParentFailurePolicy,
  JobRecord,
  JobState,
  Json,
  ListFilter,
  QueueLimitsChange,
  QueueSetting,
  QueueStats,
  ClaimedJob,
  NewJob,
  RescuedJob,
} from "../store/index.ts";
export type {
  AttemptEnd,
  AttemptObservation,
  AttemptOutcome,
  EnqueueObservation,
  JobObserver,
} from "./observer.ts";
export type { WorkerCounters } from "./worker.ts";
// For the CLI, which reads and changes jobs through the store without a Jobs instance.
export { checkJobId, checkQueue } from "./validate.ts";
