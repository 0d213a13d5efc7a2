/**
 * The converge part: idempotent reconcile loops over the app's own tables, woken by a change or a
 * timer, bounded and timed, led by one process at a time, recording each inconsistency once.
 * See docs/convergers.md.
 */
export { AppConvergers, type AppConvergersOptions } from "./app-convergers.ts";
export { DEFAULT_KEY_BACKOFF, type KeyBackoff, keyBackoffMs } from "./backoff.ts";
export { isEmptyChange } from "./changes.ts";
export { CONVERGE_CODES } from "../errors/codes/converge.ts";
export type {
  ConvergeContext,
  ConvergeOutcome,
  DatabaseAccess,
  EnqueueFn,
  EnqueueOptions,
  FindContext,
  Row,
  SqlFn,
  SqlParam,
  TransactionContext,
} from "./context.ts";
export { type ConvergerDefinition, normalizeDefinition, type WakeOn } from "./definition.ts";
export type { Found } from "./keys.ts";
export { decideLease, holdsLease, type LeaseDecision, type LeaseState, leaseDeadline } from "./lease.ts";
export type { ConvergerMetrics } from "./metrics.ts";
export { type Converger, type ConvergerDeps, createConverger, type SweepReport } from "./runner.ts";
export {
  type ConvergeStore,
  convergeStoreFor,
  type Inconsistency,
  type InconsistencyFilter,
} from "./store.ts";
export { isTerminalError, TerminalError } from "./terminal-error.ts";
export { installWakeTrigger } from "./wake.ts";
