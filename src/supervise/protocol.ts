/**
 * The IPC protocol between a supervisor (master) and its worker processes, carried over Node's
 * `fork()` IPC channel. Every message carries `tend: 1` so that a program's own IPC messages are
 * never mistaken for the supervisor's.
 *
 * Worker to master: `ready` (its tasks run), `heartbeat` (sent from the event loop, with the
 * in-flight job count and the time of the last completion), `stopped` (after a graceful stop, no
 * job in flight). Master to worker: `stop` (stop fetching, finish in-flight jobs, say `stopped`, exit).
 */

/** Environment variables the master sets for each worker. */
export const SUPERVISE_ENV = {
  /** `1` in a supervised worker: `app.main()` runs the supervised-worker task. */
  supervised: "TEND_SUPERVISED",
  /** The worker id, also the jobs layer's worker id (so the master can rescue its jobs). */
  workerId: "TEND_WORKER_ID",
  /** Milliseconds between heartbeats. */
  heartbeatMs: "TEND_HEARTBEAT_MS",
  /** Milliseconds an orphaned worker may spend draining before it exits anyway. */
  orphanGraceMs: "TEND_ORPHAN_GRACE_MS",
  /** The master's pid (the worker checks that its parent stays the same). */
  masterPid: "TEND_MASTER_PID",
  /** How many times the worker's slot was restarted before it started (shown by the dashboard). */
  slotRestarts: "TEND_SLOT_RESTARTS",
  /** The store URL the master reads, for the worker's app to use the same database. */
  databaseUrl: "TEND_DATABASE_URL",
  /** `1` when a single executable is started as a spare (see spare-side.ts), not as the program. */
  spare: "TEND_SPARE",
} as const;

/** Worker reports its tasks run. */
export interface ReadyMessage {
  tend: 1;
  type: "ready";
  workerId: string;
  pid: number;
}

/** Worker is alive (sent from its event loop). */
export interface HeartbeatMessage {
  tend: 1;
  type: "heartbeat";
  inFlight: number;
  /** ms epoch of the worker's last job completion, or null. */
  lastCompletionAt: number | null;
  /** ms epoch when the worker sent it. */
  sentAt: number;
}

/** Worker finished a graceful stop: nothing in flight, about to exit. */
export interface StoppedMessage {
  tend: 1;
  type: "stopped";
  workerId: string;
}

/** Master asks the worker to stop gracefully. */
/**
 * A worker's metrics (prom-client's `getMetricsAsJSON()`), sent after heartbeats when the master
 * serves the fleet's metrics (`tend supervise --http`, env TEND_METRICS=1).
 */
export interface MetricsMessage {
  tend: 1;
  type: "metrics";
  metrics: unknown[];
}

export interface StopMessage {
  tend: 1;
  type: "stop";
  reason: string;
}

/** Master tells a booted spare to become a worker: set this environment and load the program. */
export interface StartMessage {
  tend: 1;
  type: "start";
  program: string;
  args: string[];
  env: Record<string, string>;
}

/** A spare has booted Node (and the TypeScript loader) and waits for a start message. */
export interface SpareReadyMessage {
  tend: 1;
  type: "spare";
}

/** Any message a worker sends. */
export type WorkerMessage = ReadyMessage | HeartbeatMessage | StoppedMessage | MetricsMessage;
/** Any message a master sends. */
export type MasterMessage = StopMessage;

interface Loose {
  tend?: unknown;
  type?: unknown;
  workerId?: unknown;
  pid?: unknown;
  inFlight?: unknown;
  lastCompletionAt?: unknown;
  sentAt?: unknown;
  reason?: unknown;
  program?: unknown;
  args?: unknown;
  env?: unknown;
  metrics?: unknown;
}

function isRecord(value: unknown): value is Loose {
  return typeof value === "object" && value !== null;
}

/**
 * True when `value` is a well-formed worker message (anything else on the channel is ignored).
 *
 * @example
 * ```ts
 * child.on("message", (m) => { if (isWorkerMessage(m) && m.type === "ready") markReady(); });
 * ```
 */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (!isRecord(value) || value.tend !== 1) return false;
  switch (value.type) {
    case "ready":
      return typeof value.workerId === "string" && typeof value.pid === "number";
    case "heartbeat":
      return (
        typeof value.inFlight === "number" &&
        Number.isFinite(value.inFlight) &&
        (value.lastCompletionAt === null || typeof value.lastCompletionAt === "number") &&
        typeof value.sentAt === "number"
      );
    case "stopped":
      return typeof value.workerId === "string";
    case "metrics":
      return Array.isArray(value.metrics);
    default:
      return false;
  }
}

/**
 * True when `value` is a well-formed master message.
 *
 * @example
 * ```ts
 * process.on("message", (m) => { if (isMasterMessage(m)) stop(m.reason); });
 * ```
 */
export function isMasterMessage(value: unknown): value is MasterMessage {
  return isRecord(value) && value.tend === 1 && value.type === "stop" && typeof value.reason === "string";
}

/**
 * True when `value` is a start message for a spare.
 *
 * @example
 * ```ts
 * process.on("message", (m) => { if (isStartMessage(m)) void import(m.program); });
 * ```
 */
export function isStartMessage(value: unknown): value is StartMessage {
  return (
    isRecord(value) &&
    value.tend === 1 &&
    value.type === "start" &&
    typeof value.program === "string" &&
    Array.isArray(value.args) &&
    typeof value.env === "object" &&
    value.env !== null
  );
}

/**
 * True when `value` says a spare has booted.
 *
 * @example
 * ```ts
 * child.on("message", (m) => { if (isSpareReadyMessage(m)) booted = true; });
 * ```
 */
export function isSpareReadyMessage(value: unknown): value is SpareReadyMessage {
  return isRecord(value) && value.tend === 1 && value.type === "spare";
}
