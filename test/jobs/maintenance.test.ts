import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { maintenanceTask, nextRescueWait } from "../../src/jobs/maintenance.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openStore } from "../../src/store/index.ts";
import { newJob } from "../conformance/job-store/helpers.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

describe("jobs maintenance", () => {
  it("never lets two rescue passes begin more than the interval apart", () => {
    for (const random of [0, 0.25, 0.5, 0.999, 1]) {
      for (const elapsed of [0, 100, 2_999, 5_000, 60_000]) {
        const wait = nextRescueWait(5_000, elapsed, random);
        assert.ok(wait >= 0, `wait ${wait} is not negative`);
        assert.ok(elapsed + wait <= 5_000 || wait === 0, `pass after ${elapsed} ms waits ${wait} ms`);
        assert.ok(
          elapsed + wait >= Math.min(3_000, elapsed),
          "the spread keeps at least 60% of the interval",
        );
      }
    }
    assert.equal(nextRescueWait(5_000, 1_000, 0.5), 3_000);
  });

  it("prunes a backlog larger than one batch over several passes, completely", async () => {
    const tmp = await makeTempDir("tend-maintenance-");
    const path = join(tmp.dir, "tend.db");
    const store = await openStore(`sqlite:${path}`);
    const controller = new AbortController();
    let run: Promise<void> | undefined;
    try {
      const n = 12_000;
      const ids = (await store.jobs.insert(Array.from({ length: n }, () => newJob({ queue: "old" })))).map(
        (r) => r.id,
      );
      // Finished long ago: written directly, as years of history would be.
      const raw = new DatabaseSync(path);
      raw.exec(
        `UPDATE "tend_jobs" SET state = 'completed', finished_at = 1000 WHERE id BETWEEN ${Number(ids[0])} AND ${Number(ids.at(-1))}`,
      );
      raw.close();
      const passes: number[] = [];
      run = maintenanceTask(store, {
        // A pass prunes for at most half of this before the next rescue comes first.
        rescueIntervalMs: 2,
        pruneIntervalMs: 10,
        retentionMs: 24 * 3600 * 1000,
        // The real logger, with its info lines (one per pass that pruned) counted.
        log: Object.assign(Object.create(createLogger({ level: "silent", pretty: false })) as object, {
          info: (fields: { pruned?: number }) => {
            if (typeof fields?.pruned === "number") passes.push(fields.pruned);
          },
        }) as never,
      }).run(controller.signal);
      await waitFor(async () => ((await store.jobs.list({ queue: "old" })).length === 0 ? true : null), {
        timeoutMs: 30_000,
        message: "every old job to be pruned",
      });
      assert.equal(
        passes.reduce((a, b) => a + b, 0),
        n,
      );
      assert.ok(passes.length >= 2, `pruned over ${passes.length} passes`);
    } finally {
      controller.abort();
      await run;
      await store.close();
      await tmp.cleanup();
    }
  });

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
