/**
 * The store: tend's database floor. It owns the records and storage interfaces that the parts
 * above it use (jobs, cron, batches, converge leases, inconsistencies, terminal keys, wake-ups),
 * the migrations runner, and one driver per database (sqlite/, postgres/) implementing them.
 * This file is the store's face towards the rest of tend; src/index.ts re-exports its public part.
 */
export {
  type BatchProgress,
  type ClaimedJob,
  type ClaimRequest,
  type Completion,
  emptyQueueStats,
  type Failure,
  type HeartbeatResult,
  type InsertResult,
  JOB_STATES,
  type JobError,
  type JobRecord,
  type JobState,
  type Json,
  type LeaseRef,
  type ListFilter,
  type NewJob,
  type QueueStats,
  type RescuedJob,
  UNIQUE_BLOCKING_STATES,
} from "./job-model.ts";
export type { CallerTransaction, JobStore } from "./job-store.ts";
export { DEFAULT_DATABASE_URL, openStore, type StoreOptions } from "./open.ts";
export type { Channel, DriverName, Notifier, Store } from "./store.ts";
