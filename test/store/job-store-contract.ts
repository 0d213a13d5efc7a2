import { describe } from "node:test";
import { describeAdmin } from "./contract/admin.ts";
import { describeCronBatchTransactions } from "./contract/cron-batch-tx.ts";
import type { Harness } from "./contract/harness.ts";
import { describeInsertAndClaim } from "./contract/insert-claim.ts";
import { describeLeases } from "./contract/lease.ts";
import { describeValidation } from "./contract/validation.ts";

export type { Harness } from "./contract/harness.ts";

/**
 * The shared JobStore contract: every driver's test file runs it against its own store.
 * `harness` is called before each test and must return a freshly migrated, empty store (a new
 * SQLite file, a new PostgreSQL schema); its `cleanup` runs after each test.
 *
 * @example
 * ```ts
 * describeJobStoreContract("sqlite", async () => {
 *   const { dir, cleanup } = await makeTempDir();
 *   const store = await openStore(`sqlite:${dir}/tend.db`);
 *   return { store, cleanup: async () => { await store.close(); await cleanup(); }, inCallerTransaction };
 * });
 * ```
 */
export function describeJobStoreContract(label: string, harness: () => Promise<Harness>): void {
  describe(`JobStore contract: ${label}`, () => {
    describeInsertAndClaim(harness);
    describeLeases(harness);
    describeAdmin(harness);
    describeCronBatchTransactions(harness);
    describeValidation(harness);
  });
}
