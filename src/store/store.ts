import type { DatabaseSync } from "node:sqlite";
import type { Pool } from "pg";
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
  /** Apply pending migrations when opening (default true). */
  migrate?: boolean;
}

/**
 * The driver's own connection, for tend's parts that keep their own tables (convergers' leases
 * and inconsistencies) and for tests. Not part of the public API.
 */
export type RawConnection =
  | {
      driver: "sqlite";
      /** The store's `node:sqlite` handle (synchronous; WAL; busy timeout set). */
      db: DatabaseSync;
      /** Table-name prefix, e.g. `tend_`. */
      prefix: string;
      /** Absolute path of the database file. */
      path: string;
      /** Runs `fn` in a `BEGIN IMMEDIATE` write transaction, committing on return and rolling back on throw. */
      writeTransaction<T>(fn: () => T): T;
    }
  | {
      driver: "postgres";
      pool: Pool;
      /** Schema holding tend's tables, e.g. `tend` (already validated as an identifier). */
      schema: string;
      connectionString: string;
    };

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
  /** The driver's own connection (internal). */
  readonly raw: RawConnection;
  /** Applies pending migrations under a lock; safe to call from many processes at once. Returns the names applied. */
  migrate(): Promise<string[]>;
  /** Closes every connection; memoized, safe to call twice. */
  close(): Promise<void>;
}
