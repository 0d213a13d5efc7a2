import type { DatabaseSync } from "node:sqlite";
import type { Pool } from "pg";
import type { JobStore } from "./job-store.ts";

/** Wake-up channels. PostgreSQL: LISTEN/NOTIFY; SQLite: in-process events plus a data_version poll across processes. */
export type Channel = "jobs" | "cancel" | "batch" | (string & {});

export interface Notifier {
  /**
   * Calls `listener(payload)` for each notification on `channel`. Delivery is best effort: callers
   * must also poll. `onReconnect` (if given) is called after the listener reconnected, because
   * notifications sent while disconnected are lost; callers re-poll then.
   * Resolves once listening; the returned function stops listening.
   */
  listen(
    channel: Channel,
    listener: (payload: string) => void,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>>;
  /** Sends a notification (outside any transaction). */
  notify(channel: Channel, payload: string): Promise<void>;
}

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
