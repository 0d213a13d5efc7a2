import type {
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
import type { UserDatabase } from "./user-database.ts";

/**
 * The converge part's storage: leases, inconsistencies, terminal keys, wake-up triggers and
 * listeners, and the user's database access. One implementation per driver, in
 * src/store/<driver>/converge-store.ts.
 */
export interface ConvergeStore {
  readonly driver: "sqlite" | "postgres";
  /** Takes or renews the lease of `name` for `holder` (atomic; decided by `decideLease`). */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseAttempt>;
  /** Gives the lease up at once (expiry = now) if `fence` still holds it. */
  releaseLease(name: string, fence: Fence): Promise<void>;
  /**
   * Records inconsistencies of one converger in one statement (one commit), fenced: with a fence,
   * only if that holder and epoch still hold a live lease of `converger`; all or none. Returns
   * false when fenced out.
   */
  recordInconsistencies(
    converger: string,
    records: ReadonlyArray<{ key: string; changes: unknown }>,
    fence: Fence | null,
  ): Promise<boolean>;
  listInconsistencies(filter: InconsistencyFilter): Promise<Inconsistency[]>;
  /** Records a terminal failure of a key (fenced like recordInconsistency). */
  recordTerminal(
    converger: string,
    key: string,
    version: string | null,
    message: string,
    fence: Fence | null,
  ): Promise<boolean>;
  /** Deletes the parked (terminal) record of one key, or of every key of `converger` when `key` is null. Returns how many. */
  clearTerminal(converger: string, key: string | null): Promise<number>;
  /** Parked keys of one converger, or of every converger when none is named; oldest first. */
  listTerminal(converger?: string): Promise<TerminalKey[]>;
  /**
   * Deletes up to `limit` inconsistencies recorded before `olderThan`, of one converger or of all
   * (null). Returns how many; call again while it returns `limit`.
   */
  pruneInconsistencies(converger: string | null, olderThan: Date, limit: number): Promise<number>;
  /** Deletes up to `limit` parked keys of `converger` parked before `olderThan`; returns their keys. */
  pruneTerminal(converger: string, olderThan: Date, limit: number): Promise<string[]>;
  /** Every converger lease ever taken (live or expired), by name. */
  listLeases(): Promise<LeaseRecord[]>;
  /**
   * Asks the leader of `converger`, in whichever process, to sweep now (`key` null) or to run one
   * key now (a key backing off after failures, or a parked one): a wake-up whose table is
   * `SWEEP_REQUEST_TABLE`, whose column is the converger's name and whose key is `key` (on SQLite
   * a row of the wake-up log, read by the leader's poll; on PostgreSQL a notification). Best
   * effort: a converger without a leader sweeps when one takes the lease anyway.
   */
  requestSweep(converger: string, key?: string | null): Promise<void>;
  /** Whether a wakeOn table exists. */
  tableExists(table: WakeTable): Promise<boolean>;
  /** Whether a column of an existing table exists. */
  columnExists(table: WakeTable, column: string): Promise<boolean>;
  /**
   * Installs (idempotently) the change trigger of a wakeOn table. Returns the table as wake-ups
   * name it (`schema.table` on PostgreSQL, `table` on SQLite).
   */
  installWakeTrigger(table: WakeTable): Promise<string>;
  /**
   * Listens for changes of wakeOn tables. `onReconnect` is called when notifications may have
   * been lost (the listener reconnected), so the caller sweeps.
   */
  listenWakes(onWake: (wake: Wake) => void, onReconnect: () => void, pollMs: number): Promise<WakeListener>;
  /** The app's database for user code (ctx.sql, ctx.transaction, ctx.db / ctx.pool). */
  readonly access: UserDatabase;
  /** Closes what this converge store opened (not the Store). */
  close(): Promise<void>;
}
