import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { maintenanceTask } from "../../src/jobs/maintenance.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openStore } from "../../src/store/index.ts";
import { newJob } from "../conformance/job-store/helpers.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

describe("jobs maintenance", () => {
  it("prunes the rate windows that ended, and keeps a running one", async () => {
    const tmp = await makeTempDir("tend-maintenance-");
    const path = join(tmp.dir, "tend.db");
    const store = await openStore(`sqlite:${path}`);
    const file = new DatabaseSync(path, { readOnly: true });
    const controller = new AbortController();
    let run: Promise<void> | undefined;
    try {
      const rated = (key: string, periodMs: number) =>
        newJob({
          queue: "q",
          concurrencyKey: key,
          concurrencyLimit: null,
          rateLimit: 1,
          ratePeriodMs: periodMs,
        });
      await store.jobs.insert([rated("short", 20), rated("day", 24 * 3600 * 1000)]);
      assert.equal(
        (await store.jobs.claim({ queue: "q", limit: 10, workerId: "w", leaseMs: 60_000 })).length,
        2,
      );
      const buckets = (): string[] =>
        (
          file.prepare('SELECT bucket FROM "tend_rate_windows" ORDER BY bucket').all() as Array<{
            bucket: string;
          }>
        ).map((r) => r.bucket);
      assert.deepEqual(buckets(), ["q/day", "q/short"]);
      run = maintenanceTask(store, {
        rescueIntervalMs: 10,
        pruneIntervalMs: 10,
        retentionMs: 24 * 3600 * 1000,
        log: createLogger({ level: "silent", pretty: false }),
      }).run(controller.signal);
      await waitFor(() => (buckets().length === 1 ? true : null), {
        timeoutMs: 10_000,
        message: "the ended window to be pruned",
      });
      assert.deepEqual(buckets(), ["q/day"]);
    } finally {
      controller.abort();
      await run;
      file.close();
      await store.close();
      await tmp.cleanup();
    }
  });
});
