/**
 * The store: tend's database floor. It owns the records and storage interfaces that the parts
 * above it use (jobs, cron, batches, converge leases, inconsistencies, terminal keys, wake-ups),
 * the migrations runner, and one driver per database (sqlite/, postgres/) implementing them.
 * This file is the store's face towards the rest of tend; src/index.ts re-exports its public part.
 */
export type {
  Fence,
  Inconsistency,
  InconsistencyFilter,
  LeaseAttempt,
  LeaseRecord,
  TerminalKey,
  Wake,
  WakeListener,
  WakeTable,
} from "./converge-model.ts";
export { SWEEP_REQUEST_TABLE } from "./converge-model.ts";
export type {
  AdminStore,
  AuditEntry,
  AuditFilter,
  BulkAction,
  BulkFilter,
  BulkOutcome,
  DeleteOutcome,
  NewAuditEntry,
} from "./admin-model.ts";
export { BULK_ACTIONS, bulkStates, checkBulkFilter } from "./admin-model.ts";
export { type ErrorEntry, errorEntries, errorEntry, lastError } from "./error-entries.ts";
export type { ActivityOptions, JobActivity, QueueActivity } from "./activity-model.ts";
export type { StateCount, StateCountOptions, StateCounts } from "./state-counts.ts";
export type { ProcessHeartbeat, ProcessRecord, ProcessRegistry } from "./process-model.ts";
export { isJobId, jobIdText, queueArg } from "./args.ts";
export type { ConvergeStore } from "./converge-store.ts";
export {
  type BatchProgress,
  type ClaimedJob,
  type ClaimRequest,
  type Completion,
  DEFAULT_MAX_LOST,
  emptyQueueStats,
  type Failure,
  type HeartbeatResult,
  type InsertOutcome,
  type InsertResult,
  JOB_STATES,
  type JobError,
  type JobRecord,
  type JobState,
  type Json,
  type LeaseRef,
  type ListFilter,
  type NewJob,
  type JobDependencies,
  type JobLink,
  PARENT_FAILURE_POLICIES,
  type ParentFailurePolicy,
  type QueueLimitsChange,
  type QueueSetting,
  type ProgressUpdate,
  type SnoozeRequest,
  type QueueStats,
  type RescuedJob,
  UNIQUE_BLOCKING_STATES,
  UNIQUE_MODES,
  type UniqueMode,
} from "./job-model.ts";
export type { CallerTransaction, JobStore } from "./job-store.ts";
export {
  CRON_OVERLAPS,
  type CronEntryDefinition,
  type CronEntryState,
  type CronOverlap,
  type CronTickOutcome,
  type CronTickResult,
} from "./cron-model.ts";
export type { LeaseDecision } from "./lease.ts";
export type { Channel, Notifier } from "./notifier.ts";
export { TEND_VERSION } from "./code-version.ts";
export type { FleetStore, MasterRecord } from "./fleet.ts";
export { fleetStore } from "./fleet-store.ts";
export type { MigrationStatusRow } from "./migration.ts";
export { migrationStatus } from "./migration-status.ts";
export { checkStoreOptions, DEFAULT_DATABASE_URL, openStore, preloadDriver } from "./open.ts";
export type { DriverName, Store, StoreOptions } from "./store.ts";
export { storableText, storableValue } from "./text.ts";
export { isStoreUnavailable } from "./unavailable.ts";
export type { OpenTransaction, Row, SqlFn, SqlParam, UserDatabase } from "./user-database.ts";
export { noOpReason } from "./job-actions.ts";
