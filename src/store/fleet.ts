/** One supervisor master as the fleet table records it. */
export interface MasterRecord {
  /** `host:pid.start`, unique per master run. */
  id: string;
  host: string;
  pid: number;
  program: string;
  min: number;
  max: number;
  /** The worker count this master runs now (its share of the fleet's). */
  desired: number;
  /**
   * Its workers as it last reported them (id, pid, state, in-flight jobs, and the restarts of the
   * worker's slot; absent from rows written by older versions).
   */
  workers: ReadonlyArray<{ id: string; pid: number; state: string; inFlight: number; restarts?: number }>;
  startedAt: Date;
  heartbeatAt: Date;
  /** Past this, without a heartbeat, the master counts as dead. */
  expiresAt: Date;
}

/**
 * The masters of `tend supervise` that share one database (several machines), each registered
 * with heartbeats. Only the PostgreSQL driver has one (see {@link fleetStore}).
 */
export interface FleetStore {
  /** Inserts or refreshes this master's row, alive for `leaseMs` from the database's clock. */
  heartbeat(
    master: Omit<MasterRecord, "startedAt" | "heartbeatAt" | "expiresAt">,
    leaseMs: number,
  ): Promise<void>;
  /** Every registered master with whether its lease still runs, by id. Deletes rows dead for over an hour. */
  masters(): Promise<Array<MasterRecord & { alive: boolean }>>;
  /** Removes this master's row (a clean stop). */
  remove(id: string): Promise<void>;
}
