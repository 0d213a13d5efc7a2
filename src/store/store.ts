import type { DatabaseSync } from "node:sqlite";
import type { Pool } from "pg";
import type { JobStore } from "./job-store.ts";
import type { Notifier } from "./notifier.ts";

export type DriverName = "sqlite" | "postgres";

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
  /** The driver's own connection (internal). */
  readonly raw: RawConnection;
  /** Applies pending migrations under a lock; safe to call from many processes at once. Returns the names applied. */
  migrate(): Promise<string[]>;
  /** Closes every connection; memoized, safe to call twice. */
  close(): Promise<void>;
}
