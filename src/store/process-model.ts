/**
 * What a running tend process says of itself at each heartbeat, for the dashboard's workers page
 * and `tend status --database`: who it is, where, what it runs and how busy it is.
 */
export interface ProcessHeartbeat {
  /** The process's worker id (the jobs layer's lease owner). */
  id: string;
  host: string;
  pid: number;
  /** The program file it runs. */
  program: string;
  /** tend's version in the process. */
  version: string;
  /** The supervisor master's pid when the process is a supervised worker, else null. */
  masterPid: number | null;
  /**
   * A supervised worker's slot restarts before it started (the master counts the workers that
   * failed in this worker's place), else null.
   */
  restarts: number | null;
  /** The queues its job worker serves (empty when it runs no job worker). */
  queues: string[];
  /** Its job worker's concurrency summed over its queues (0 without a worker). */
  concurrency: number;
  /** Jobs its handlers are running now. */
  inFlight: number;
  rssBytes: number;
  heapUsedBytes: number;
}

/** A registered process as read back: its last heartbeat, and whether its lease still holds. */
export interface ProcessRecord extends ProcessHeartbeat {
  startedAt: Date;
  heartbeatAt: Date;
  expiresAt: Date;
  /** The lease had not expired at the read (the process heartbeats; judged by the store's clock). */
  alive: boolean;
}

/**
 * The processes registry: every tend app process writes a row at start and refreshes it on a
 * heartbeat; a row whose lease passed is a process that stopped heartbeating (killed, frozen or
 * cut off). A clean shutdown removes its row. Rows gone for over an hour are deleted at reads.
 *
 * @example
 * ```ts
 * await store.processes.heartbeat({ id, host, pid, program, version, masterPid: null, restarts: null, queues: ["default"],
 *   concurrency: 10, inFlight: 3, rssBytes, heapUsedBytes }, 30_000);
 * for (const p of await store.processes.list()) console.log(p.host, p.pid, p.alive);
 * ```
 */
export interface ProcessRegistry {
  /** Inserts or refreshes this process's row; its lease runs `leaseMs` from now. */
  heartbeat(process: ProcessHeartbeat, leaseMs: number): Promise<void>;
  /** Every registered process, live ones and those gone within the last hour, by host then pid. */
  list(): Promise<ProcessRecord[]>;
  /** Removes a process's row (its clean shutdown). */
  remove(id: string): Promise<void>;
}
