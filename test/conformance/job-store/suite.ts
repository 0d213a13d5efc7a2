import { describe } from "node:test";
import { useFreshStore } from "../../support/backends.ts";
import { describeActivity } from "./activity.ts";
import { describeAdmin } from "./admin.ts";
import { describeConcurrencyKeys } from "./concurrency-keys.ts";
import { describeCronBatchTransactions } from "./cron-batch-tx.ts";
import { describeCronSeen } from "./cron-seen.ts";
import { describeInsertAndClaim } from "./insert-claim.ts";
import { describeLeases } from "./lease.ts";
import { describeQueueLimits } from "./queue-limits.ts";
import { describeQueues } from "./queues.ts";
import { describeRateLimits } from "./rate-limits.ts";
import { describeValidation } from "./validation.ts";

/**
 * The JobStore contract: every driver runs it against its own store (see job-store-sqlite.test.ts
 * and job-store-postgres.test.ts). Each test gets a freshly migrated, empty store of its own (a new
 * SQLite file, a new PostgreSQL schema) on one database for the file.
 */
export function describeJobStoreContract(driver: "sqlite" | "postgres"): void {
  describe(`JobStore contract: ${driver}`, () => {
    const fresh = useFreshStore(driver);
    describeInsertAndClaim(fresh);
    describeLeases(fresh);
    describeAdmin(fresh);
    describeActivity(fresh);
    describeCronBatchTransactions(fresh);
    describeQueues(fresh);
    describeConcurrencyKeys(fresh);
    describeRateLimits(fresh);
    describeQueueLimits(fresh);
    describeCronSeen(fresh);
    describeValidation(fresh);
  });
}
