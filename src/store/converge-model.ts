/**
 * The records of the converge part's storage: inconsistencies, leases and their fencing tokens,
 * terminal keys and wake-ups. Owned by the store; the converge part and both drivers use them.
 */

/** A wake-up table, validated. */
export interface WakeTable {
  /** Schema (PostgreSQL) or null for the default search path / main database. */
  schema: string | null;
  table: string;
  /** Key column, or null when any change runs a sweep. */
  key: string | null;
}

/** One recorded inconsistency: a converge call that changed something. */
export interface Inconsistency {
  id: string;
  converger: string;
  key: string;
  /** What changed, as the converger returned it. */
  changes: unknown;
  at: Date;
  /** The process that held the converger's lease, and its epoch (null for unfenced runs, e.g. tests). */
  holder: string | null;
  epoch: number | null;
}

/** Filter for {@link ConvergeStore.listInconsistencies}. */
export interface InconsistencyFilter {
  converger?: string;
  /** Only this key's inconsistencies. */
  key?: string;
  since?: Date;
  until?: Date;
  /** Most recent first; default 100. */
  limit?: number;
}

/** A fencing token: the lease holder and epoch a write is made under. */
export interface Fence {
  holder: string;
  epoch: number;
}

/** The outcome of trying to take or keep a lease. */
export type LeaseAttempt =
  | { held: true; epoch: number; expiresAt: number; now: number }
  | { held: false; holder: string; expiresAt: number; now: number };

/** A key that failed with a terminal error and is not retried until it changes (a parked key). */
export interface TerminalKey {
  converger: string;
  key: string;
  version: string | null;
  message: string;
  at: Date;
}

/** One change notification from a wakeOn table. */
export interface Wake {
  /** `schema.table` on PostgreSQL, `table` on SQLite. */
  table: string;
  /** Key column of the trigger, or "" for sweep-only triggers. */
  column: string;
  /** The changed row's key (string), or null. */
  key: string | null;
}

/** A running wake-up listener. */
export interface WakeListener {
  stop(): Promise<void>;
}

/** A converger's lease as stored: who leads it (or last led it), with which epoch, until when. */
export interface LeaseRecord {
  /** The converger's name. */
  name: string;
  holder: string;
  epoch: number;
  /** When the current holder took the lease (this epoch's start). */
  acquiredAt: Date;
  expiresAt: Date;
  /** The lease had not expired at the read (judged by the store's clock). */
  live: boolean;
}

/**
 * The wake-up table name that carries an operator's request for a sweep (its key is the
 * converger's name); no user table can have this name.
 */
export const SWEEP_REQUEST_TABLE = "tend:sweep";
