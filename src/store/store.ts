import type { Duration } from "../lifecycle/index.ts";
import type { Logger } from "../log/index.ts";
import type { AdminStore } from "./admin-model.ts";
import type { ProcessRegistry } from "./process-model.ts";
import type { ConvergeStore } from "./converge-store.ts";
import type { JobStore } from "./job-store.ts";
import type { Notifier } from "./notifier.ts";

export type DriverName = "sqlite" | "postgres";

/** Options for {@link openStore}. */
export interface StoreOptions {
  /** PostgreSQL schema holding tend's tables (default `tend`). */
  schema?: string;
  /** SQLite table-name prefix (default `tend_`). */
  tablePrefix?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /**
   * Apply pending migrations when opening (default true). `false`: apply none and check nothing.
   * `"verify"`: apply none, and fail with TEND_E_DATABASE_NOT_MIGRATED unless every migration of
   * this version of tend is applied (for tools that only read or operate, like the CLI).
   */
  migrate?: boolean | "verify";
  /**
   * SQLite: create the database file (and its folder) when it does not exist (default true).
   * `false`: fail with TEND_E_DATABASE_NOT_FOUND naming the path instead.
   */
  create?: boolean;
  /** PostgreSQL timeouts (each also settable in the URL's query; see {@link PostgresTimeouts}). */
  timeouts?: PostgresTimeouts;
  /**
   * Where the store logs, through a child with `part: "store"` (default: a new `createLogger()`).
   * An app hands the store its own logger.
   */
  log?: Logger;
}

/**
 * Timeouts of a PostgreSQL store (`StoreOptions.timeouts`; each also in the URL's query, where
 * the option wins). Durations: ms or text like `"5s"`.
 */
export interface PostgresTimeouts {
  /**
   * Opening a connection, waiting for a free one of the pool included (default `"5s"`; URL
   * `connect_timeout`, in seconds as libpq reads it).
   */
  connect?: Duration;
  /**
   * Any one statement (default `"30s"`; URL `statement_timeout`, ms or a duration): the server
   * cancels it then, and a statement that gets no answer at all (a frozen network path) is
   * abandoned one second later and its connection discarded.
   */
  statement?: Duration;
  /**
   * The job worker's own statements: claim, complete, fail, heartbeat, release, rescue (default
   * `"10s"`; URL `worker_statement_timeout`): given up sooner, so that a frozen path stalls a
   * worker briefly and leases are renewed in time once it answers again.
   */
  worker?: Duration;
  /** Waiting for a row or table lock (default `"10s"`; URL `lock_timeout`). */
  lock?: Duration;
  /**
   * A transaction left open and idle (default `"60s"`; URL
   * `idle_in_transaction_session_timeout`): the server ends its connection, releasing its locks.
   */
  idleInTransaction?: Duration;
}

/**
 * A database connection set (one pool per process) with tend's tables, shared by every part of
 * an app. Create with `openStore(url)`.
 */
export interface Store {
  readonly driver: DriverName;
  /** The URL, with any password removed. */
  readonly url: string;
  readonly jobs: JobStore;
  readonly notifier: Notifier;
  /**
   * The converge part's storage (leases, inconsistencies, terminal keys, wake-ups) and the app's
   * database for converger code, built by the driver when the store opened. Closed with the store.
   */
  readonly converge: ConvergeStore;
  /** The admin surface's storage: deleting jobs and the audit trail of operator actions. */
  readonly admin: AdminStore;
  /** The registry of running tend processes (heartbeats), read by the dashboard and `tend status`. */
  readonly processes: ProcessRegistry;
  /** Applies pending migrations under a lock; safe to call from many processes at once. Returns the names applied. */
  migrate(): Promise<string[]>;
  /** Throws TEND_E_DATABASE_NOT_MIGRATED unless every migration of this version of tend is applied (applies nothing). */
  verifyMigrated(): Promise<void>;
  /** Closes every connection; memoized, safe to call twice. */
  close(): Promise<void>;
}
