/**
 * The supervise part: a master process that runs N worker processes of a program, scales N from
 * queue statistics, replaces hung and dead workers, stops them gracefully, and whose workers exit
 * if orphaned. See docs/deploy.md. This file is the part's face towards the rest of tend: the
 * public API (re-exported by src/index.ts), the worker side that a supervised app runs, the spare
 * launcher's protocol, and what the `tend status` command reads.
 */
export {
  DEFAULT_STATUS_FILE,
  type RestartOptions,
  type ScalingOptions,
  type SuperviseOptions,
} from "./options.ts";
export { SUPERVISOR_CHANNELS } from "./channels.ts";
export type { SupervisorErrorHook, WorkerCrashContext } from "./crash-hook.ts";
export { isProcessAlive } from "./process-group.ts";
export { isStartMessage, type SpareReadyMessage, SUPERVISE_ENV } from "./protocol.ts";
export { type SpareSide, serveAsSpare } from "./spare-side.ts";
export { type SuperviseRunOptions, supervise } from "./run.ts";
export { readStatusFile, type SupervisorStatus, type WorkerStatus } from "./status.ts";
export { createSupervisor, Supervisor } from "./supervisor.ts";
export { renderSystemdUnit, type UnitOptions } from "./unit.ts";
export { createSupervisedWorkerTask } from "./worker-side.ts";
