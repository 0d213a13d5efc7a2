/**
 * The supervise part: a master process that runs N worker processes of a program, scales N from
 * queue statistics, replaces hung and dead workers, stops them gracefully, and whose workers exit
 * if orphaned. See docs/deploy.md.
 */
export { SUPERVISE_CODES, type SuperviseCode } from "./codes.ts";
export { type HealthLimits, type HealthVerdict, judgeWorker, type ProgressView } from "./health.ts";
export {
  DEFAULT_STATUS_FILE,
  type ResolvedOptions,
  resolveOptions,
  type SuperviseOptions,
} from "./options.ts";
export {
  DEFAULT_SCALING,
  decideWorkerCount,
  initialScalingState,
  type ScalingDecision,
  type ScalingSettings,
  type ScalingState,
  sumQueueStats,
} from "./policy.ts";
export { isProcessAlive, signalGroup } from "./process-group.ts";
export {
  isMasterMessage,
  isWorkerMessage,
  type MasterMessage,
  SUPERVISE_ENV,
  type WorkerMessage,
} from "./protocol.ts";
export {
  blameFor,
  DEFAULT_RESTART,
  type KillProblem,
  nextFailureCount,
  RestartBook,
  type RestartDecision,
  type RestartSettings,
  recordRestart,
  restartDelayMs,
} from "./restart.ts";
export { hangupTask, type SuperviseRunOptions, supervise } from "./run.ts";
export {
  readStatusFile,
  StatusWriter,
  type SupervisorStatus,
  type WorkerStatus,
  writeStatusFile,
} from "./status.ts";
export { createSupervisor, Supervisor } from "./supervisor.ts";
export { renderSystemdUnit, type UnitOptions } from "./unit.ts";
export {
  createSupervisedWorkerTask,
  isSupervisedWorker,
  type ProgressProbe,
  type SupervisedWorkerOptions,
} from "./worker-side.ts";
