import { after, describe, it } from "node:test";
import pg from "pg";
import { openStore, type Store } from "../../src/store/index.ts";
import { createTestDatabase, requirePostgres } from "../support/postgres.ts";
import { describeJobStoreContract, type Harness } from "./job-store-contract.ts";

/**
 * The shared JobStore contract on PostgreSQL: one database for this file (cloned from the
 * migrated template), a fresh schema per test; the caller's transaction is a pg.Client in BEGIN.
 */
if (await requirePostgres()) {
  const db = await createTestDatabase();
  after(() => db.drop());
  let counter = 0;

  const postgresHarness = async (): Promise<Harness> => {
    counter += 1;
    const schema = `contract_${process.pid}_${counter}`;
    const store = await openStore(db.url, { schema, poolSize: 4 });
    const opened: Store[] = [store];
    return {
      store,
      async openAnother() {
        const another = await openStore(db.url, { schema, poolSize: 4 });
        opened.push(another);
        return another;
      },
      async inCallerTransaction(fn, outcome) {
        const client = new pg.Client({ connectionString: db.url });
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
      },
      async cleanup() {
        await Promise.all(opened.map((s) => s.close()));
        const admin = new pg.Client({ connectionString: db.url });
        await admin.connect();
        try {
          await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
        } finally {
          await admin.end();
        }
      },
    };
  };

  describeJobStoreContract("postgres", postgresHarness);
} else {
  describe("JobStore contract: postgres", () => {
    it("is skipped: PostgreSQL is unreachable and TEND_SKIP_POSTGRES=1 (see the printed reason)", (t) => {
      t.skip("PostgreSQL unreachable (TEND_SKIP_POSTGRES=1)");
    });
  });
}
