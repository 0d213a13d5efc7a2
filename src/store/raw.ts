import type { DatabaseSync } from "node:sqlite";
import type { Pool } from "pg";
import type { Store } from "./store.ts";

/**
 * The driver's own connection under a store: internal, for the driver's own parts, tests and
 * benchmarks.
 */
export type RawConnection =
  | {
      driver: "sqlite";
      /** The store's `node:sqlite` handle (synchronous; WAL; a short busy timeout for reads). */
      db: DatabaseSync;
      /** Table-name prefix, e.g. `tend_`. */
      prefix: string;
      /** Absolute path of the database file. */
      path: string;
      /**
       * Runs `fn` in a `BEGIN IMMEDIATE` write transaction, committing on return and rolling back
       * on throw. Synchronous: when another process holds the write lock it fails at once (after
       * the short read busy timeout); prefer `write`.
       */
      writeTransaction<T>(fn: () => T): T;
      /**
       * Runs `fn` in the store's next group write transaction (its own savepoint), waiting for
       * another process's write lock on a timer rather than in the event loop; resolves after COMMIT.
       */
      write<T>(fn: () => T): Promise<T>;
    }
  | {
      driver: "postgres";
      pool: Pool;
      /** Schema holding tend's tables, e.g. `tend` (already validated as an identifier). */
      schema: string;
      connectionString: string;
    };

/** The driver's connection as the SQLite driver keeps it. */
export type SqliteRaw = Extract<RawConnection, { driver: "sqlite" }>;
/** The driver's connection as the PostgreSQL driver keeps it. */
export type PostgresRaw = Extract<RawConnection, { driver: "postgres" }>;

// Module-private: only this module can read or set a store's raw connection, so it is on no
// public type and no object's enumerable keys.
const RAW = Symbol("tend.store.raw");

/** Attaches the driver's connection to the Store object it opened (non-enumerable); returns the store. */
export function withRawConnection<S extends Store>(store: S, raw: RawConnection): S {
  Object.defineProperty(store, RAW, { value: raw, enumerable: false });
  return store;
}

/**
 * The driver's own connection under a store opened by `openStore` (internal: tests and
 * benchmarks reach the database below tend's interfaces through it). Throws a TypeError for an
 * object that no driver opened.
 */
export function rawConnection(store: Store): RawConnection {
  const raw = (store as unknown as Record<symbol, RawConnection | undefined>)[RAW];
  if (raw === undefined) throw new TypeError("rawConnection: this object is not a store opened by openStore");
  return raw;
}
