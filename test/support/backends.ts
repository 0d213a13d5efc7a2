import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { openStore, type Store } from "../../src/store/index.ts";
import { createTestDatabase, requirePostgres } from "./postgres.ts";
import { makeTempDir } from "./tmp.ts";

/** A real database for one test file: an SQLite file in a temp dir, or a fresh PostgreSQL database. */
export interface Backend {
  driver: "sqlite" | "postgres";
  url: string;
  /** Opens a new Store on this database (its own connections); closed by cleanup(). */
  open(): Promise<Store>;
  /** Runs fn inside the caller's own transaction, then commits or rolls back. */
  inCallerTransaction(fn: (tx: unknown) => Promise<void>, outcome: "commit" | "rollback"): Promise<void>;
  /** Closes every store opened and removes the database. */
  cleanup(): Promise<void>;
}

/** Creates the backend for `driver`; returns null (after printing why) when PostgreSQL tests are skipped. */
export async function createBackend(driver: "sqlite" | "postgres"): Promise<Backend | null> {
  const stores: Store[] = [];
  const open = async (url: string): Promise<Store> => {
    const store = await openStore(url);
    stores.push(store);
    return store;
  };
  const closeAll = async (): Promise<void> => {
    await Promise.allSettled(stores.splice(0).map((s) => s.close()));
  };
  if (driver === "sqlite") {
    const tmp = await makeTempDir("tend-jobs-");
    const path = join(tmp.dir, "tend.db");
    const url = `sqlite:${path}`;
    return {
      driver,
      url,
      open: () => open(url),
      async inCallerTransaction(fn, outcome) {
        const db = new DatabaseSync(path, { timeout: 10_000 });
        try {
          db.exec("BEGIN IMMEDIATE");
          await fn(db);
          db.exec(outcome === "commit" ? "COMMIT" : "ROLLBACK");
        } finally {
          db.close();
        }
      },
      async cleanup() {
        await closeAll();
        await tmp.cleanup();
      },
    };
  }
  if (!(await requirePostgres())) return null;
  const db = await createTestDatabase();
  return {
    driver,
    url: db.url,
    open: () => open(db.url),
    async inCallerTransaction(fn, outcome) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query("BEGIN");
        await fn(client);
        await client.query(outcome === "commit" ? "COMMIT" : "ROLLBACK");
      } finally {
        await client.end();
      }
    },
    async cleanup() {
      await closeAll();
      await db.drop();
    },
  };
}
