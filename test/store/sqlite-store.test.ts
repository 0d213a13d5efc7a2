import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openStore, type Store } from "../../src/store/index.ts";
import { rawConnection } from "../../src/store/raw.ts";
import { makeTempDir } from "../support/tmp.ts";
import { describeJobStoreContract, type Harness } from "./job-store-contract.ts";

/** A fresh SQLite file per test; the caller's transaction runs on its own DatabaseSync handle. */
async function sqliteHarness(): Promise<Harness> {
  const tmp = await makeTempDir("tend-sqlite-");
  const url = `sqlite:${join(tmp.dir, "tend.db")}`;
  const store = await openStore(url);
  const opened: Store[] = [store];
  return {
    store,
    async openAnother() {
      const another = await openStore(url);
      opened.push(another);
      return another;
    },
    async inCallerTransaction(fn, outcome) {
      const raw = rawConnection(store);
      if (raw.driver !== "sqlite") throw new Error("expected the SQLite driver");
      const tx = new DatabaseSync(raw.path, { timeout: 10_000 });
      try {
        tx.exec("BEGIN");
        await fn(tx);
        tx.exec(outcome === "commit" ? "COMMIT" : "ROLLBACK");
      } finally {
        if (tx.isTransaction) tx.exec("ROLLBACK");
        tx.close();
      }
    },
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      await tmp.cleanup();
    },
  };
}

describeJobStoreContract("sqlite", sqliteHarness);
