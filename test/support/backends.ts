import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, afterEach, before, beforeEach } from "node:test";
import pg from "pg";
import { openStore, type Store, type StoreOptions } from "../../src/store/index.ts";
import { createTestDatabase, requirePostgres } from "./postgres.ts";
import { makeTempDir } from "./tmp.ts";

/**
 * The real databases that tests run on, one helper for every suite that runs on both drivers
 * (test/conformance/) and for driver-specific tests: an SQLite file in a temp dir, or a fresh
 * PostgreSQL database cloned from the migrated template.
 */

/** Runs `fn` inside a transaction the caller owns, then commits or rolls back. */
export type InCallerTransaction = (
  fn: (tx: unknown) => Promise<void>,
  outcome: "commit" | "rollback",
) => Promise<void>;

/** A real database for one test file. */
export interface Backend {
  driver: "sqlite" | "postgres";
  url: string;
  /** Opens a new Store on this database (its own connections); closed by cleanup(). */
  open(options?: StoreOptions): Promise<Store>;
  /**
   * Opens the caller's own transaction on this database (SQLite: a `DatabaseSync` after
   * `BEGIN IMMEDIATE`; PostgreSQL: a pg client after `BEGIN`), runs `fn(tx)`, then commits or
   * rolls back.
   */
  inCallerTransaction: InCallerTransaction;
  /**
   * A freshly migrated, empty store of its own on this database, for one test: a new SQLite file
   * beside this backend's, or a new PostgreSQL schema in this backend's database.
   */
  fresh(): Promise<FreshStore>;
  /** Closes every store opened and removes the database. */
  cleanup(): Promise<void>;
}

/** A freshly migrated, empty store for one test (see {@link Backend.fresh}). */
export interface FreshStore {
  store: Store;
  /** Opens one more Store instance on the same tables (its own connections); cleanup() closes it. */
  openAnother(): Promise<Store>;
  /** The caller's own transaction on the same database (see {@link Backend.inCallerTransaction}). */
  inCallerTransaction: InCallerTransaction;
  /** Closes every store opened on it and removes its file or schema. */
  cleanup(): Promise<void>;
  /** PostgreSQL: the connection URL and schema of its tables (for a test's own SQL session). */
  postgres?: { url: string; schema: string };
}

function sqliteCallerTransaction(path: string): InCallerTransaction {
  return async (fn, outcome) => {
    const db = new DatabaseSync(path, { timeout: 10_000 });
    try {
      db.exec("BEGIN IMMEDIATE");
      await fn(db);
      db.exec(outcome === "commit" ? "COMMIT" : "ROLLBACK");
    } finally {
      if (db.isTransaction) db.exec("ROLLBACK");
      db.close();
    }
  };
}

function postgresCallerTransaction(url: string): InCallerTransaction {
  return async (fn, outcome) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query("BEGIN");
      await fn(client);
      await client.query(outcome === "commit" ? "COMMIT" : "ROLLBACK");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      await client.end();
    }
  };
}

/** Opens stores on one URL with fixed options, remembering them so that closeAll() closes them. */
function storeSet(url: string, base: StoreOptions = {}) {
  const stores: Store[] = [];
  return {
    open: async (options: StoreOptions = {}): Promise<Store> => {
      const store = await openStore(url, { ...base, ...options });
      stores.push(store);
      return store;
    },
    closeAll: async (): Promise<void> => {
      await Promise.allSettled(stores.splice(0).map((s) => s.close()));
    },
  };
}

let freshCounter = 0;

/** Creates the backend for `driver`; returns null (after printing why) when PostgreSQL tests are skipped. */
export async function createBackend(driver: "sqlite" | "postgres"): Promise<Backend | null> {
  if (driver === "sqlite") {
    const tmp = await makeTempDir("tend-test-");
    const path = join(tmp.dir, "tend.db");
    const url = `sqlite:${path}`;
    const stores = storeSet(url);
    const fresh: FreshStore[] = [];
    return {
      driver,
      url,
      open: stores.open,
      inCallerTransaction: sqliteCallerTransaction(path),
      async fresh() {
        const freshPath = join(tmp.dir, `fresh-${++freshCounter}.db`);
        const own = storeSet(`sqlite:${freshPath}`);
        const made: FreshStore = {
          store: await own.open(),
          openAnother: () => own.open(),
          inCallerTransaction: sqliteCallerTransaction(freshPath),
          cleanup: own.closeAll,
        };
        fresh.push(made);
        return made;
      },
      async cleanup() {
        await Promise.allSettled(fresh.splice(0).map((f) => f.cleanup()));
        await stores.closeAll();
        await tmp.cleanup();
      },
    };
  }
  if (!(await requirePostgres())) return null;
  const db = await createTestDatabase();
  const stores = storeSet(db.url);
  const fresh: FreshStore[] = [];
  return {
    driver,
    url: db.url,
    open: stores.open,
    inCallerTransaction: postgresCallerTransaction(db.url),
    async fresh() {
      const schema = `fresh_${process.pid}_${++freshCounter}`;
      const own = storeSet(db.url, { schema, poolSize: 4 });
      let dropped = false;
      const made: FreshStore = {
        store: await own.open(),
        openAnother: () => own.open(),
        inCallerTransaction: postgresCallerTransaction(db.url),
        postgres: { url: db.url, schema },
        async cleanup() {
          await own.closeAll();
          if (dropped) return;
          dropped = true;
          const admin = new pg.Client({ connectionString: db.url });
          await admin.connect();
          try {
            await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
          } finally {
            await admin.end();
          }
        },
      };
      fresh.push(made);
      return made;
    },
    async cleanup() {
      await Promise.allSettled(fresh.splice(0).map((f) => f.cleanup()));
      await stores.closeAll();
      await db.drop();
    },
  };
}

/**
 * One backend for the whole file (created in `before`, removed in `after`), and one store on it;
 * the getter throws when the backend is unavailable (PostgreSQL skipped).
 */
export function useBackend(driver: "sqlite" | "postgres"): () => { backend: Backend; store: Store } {
  let backend: Backend | null = null;
  let store: Store | null = null;
  before(async () => {
    backend = await createBackend(driver);
    if (backend !== null) store = await backend.open();
  });
  after(async () => {
    await backend?.cleanup();
  });
  return () => {
    if (backend === null || store === null) throw new Error(`${driver} backend unavailable`);
    return { backend, store };
  };
}

/**
 * One backend for the whole file and a fresh store for every test (made in `beforeEach`,
 * removed in `afterEach`); the getter gives the current test's.
 */
export function useFreshStore(driver: "sqlite" | "postgres"): () => FreshStore {
  let backend: Backend | null = null;
  let current: FreshStore | undefined;
  before(async () => {
    backend = await createBackend(driver);
  });
  after(async () => {
    await backend?.cleanup();
  });
  beforeEach(async () => {
    if (backend === null) throw new Error(`${driver} backend unavailable`);
    current = await backend.fresh();
  });
  afterEach(async () => {
    const made = current;
    current = undefined;
    await made?.cleanup();
  });
  return () => {
    if (current === undefined) throw new Error("fresh store not ready (used outside a test?)");
    return current;
  };
}
