/**
 * The converge part: idempotent reconcile loops over the app's own tables, woken by a change or a
 * timer, bounded and timed, led by one process at a time, recording each inconsistency once.
 * See docs/convergers.md. This file is the part's face towards the rest of tend (src/index.ts
 * re-exports it); everything else in this folder is internal.
 */
export type { Inconsistency, TerminalKey } from "../store/index.ts";
export { AppConvergers, type AppConvergersOptions } from "./app-convergers.ts";
export type { ConvergeContext, ConvergeOutcome, FindContext } from "./context.ts";
export type { ConvergeErrorHook } from "./execute.ts";
export type { ConvergerDefinition, WakeOn } from "./definition.ts";
export { type ConvergerMetrics, lastSweepAgeMs } from "./metrics.ts";
export type {
  ConvergeObserver,
  ConvergeRunObservation,
  ConvergeRunOutcome,
  ConvergeSweepObservation,
} from "./observer.ts";
export { clearParkedKeys, listParkedKeys, PARKED_CHANNEL } from "./parked.ts";
export type { ConvergerRetention } from "./retention.ts";
export { type Converger, createConverger, type SweepReport } from "./runner.ts";
export type { BackoffKey } from "./key-queue.ts";
export { isTerminalError, TerminalError } from "./terminal-error.ts";
export { installWakeTrigger } from "./wake.ts";
