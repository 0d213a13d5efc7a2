import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FreshStore } from "../../support/backends.ts";
import { claimOne, insertOne, jobError, newJob } from "./helpers.ts";

/** cancel, retry, get, list, prune, stats. */
export function describeAdmin(h: () => FreshStore): void {
  describe("stateCounts", () => {
    it("counts jobs by queue and state exactly on a small table, and estimates them from a bounded sample on a larger one", async () => {
      const { store } = h();
      assert.deepEqual(await store.admin.stateCounts(), { exact: true, sampledRows: 0, counts: [] });
      // 6,000 jobs in two queues, every third one completed, mixed all along the ids.
      for (let batch = 0; batch < 6; batch++)
        await store.jobs.insert(
          Array.from({ length: 1_000 }, (_, i) => newJob({ queue: i % 2 === 0 ? "sc.a" : "sc.b" })),
        );
      for (let round = 0; round < 2; round++) {
        const leases = await store.jobs.claim({
          queue: "sc.a",
          limit: 1_000,
          workerId: "w",
          leaseMs: 60_000,
        });
        await store.jobs.complete(leases.map((l) => ({ ...l, result: null })));
      }
      const exact = await store.admin.stateCounts();
      assert.equal(exact.exact, true);
      assert.equal(exact.sampledRows, 6_000);
      assert.deepEqual(
        exact.counts.map((c) => [c.queue, c.state, c.count]),
        [
          ["sc.a", "available", 1_000],
          ["sc.a", "completed", 2_000],
          ["sc.b", "available", 3_000],
        ],
      );
      const estimate = await store.admin.stateCounts({ sampleRows: 1_000 });
      assert.equal(estimate.exact, false);
      assert.ok(estimate.sampledRows <= 1_000, `read ${estimate.sampledRows} rows`);
      const total = estimate.counts.reduce((n, c) => n + c.count, 0);
      assert.ok(Math.abs(total - 6_000) <= 600, `estimated ${total} jobs of 6,000`);
      const b = estimate.counts.find((c) => c.queue === "sc.b" && c.state === "available")?.count ?? 0;
      assert.ok(Math.abs(b - 3_000) <= 600, `estimated ${b} available jobs in sc.b of 3,000`);
      await assert.rejects(store.admin.stateCounts({ sampleRows: 10 }), {
        code: "TEND_E_INVALID_STORE_ARGUMENT",
      });
    });
  });

  describe("cancel", () => {
    it("cancels a pending job at once, requests cancel of a running one, leaves a final one", async () => {
      const { store } = h();
      const pending = await insertOne(store, { runAt: new Date(Date.now() + 60_000) });
      const running = await insertOne(store);
      const lease = await claimOne(store);
      assert.equal(lease.id, running);

      const p = await store.jobs.cancel(pending);
      assert.equal(p?.state, "cancelled");
      assert.ok(p?.finishedAt instanceof Date);

      const r = await store.jobs.cancel(running);
      assert.equal(r?.state, "running");
      assert.equal(r?.cancelRequested, true);

      await store.jobs.markCancelled([lease], "cancel requested");
      const done = await insertOne(store);
      const l2 = await claimOne(store);
      await store.jobs.complete([{ ...l2, result: JSON.stringify(1) }]);
      const f = await store.jobs.cancel(done);
      assert.equal(f?.state, "completed");
      assert.equal(f?.cancelRequested, false);
      assert.equal(await store.jobs.cancel("987654321"), null);
    });
  });

  describe("retry", () => {
    it("makes a discarded job available now with attempt 0; leaves pending and running jobs unchanged", async () => {
      const { store } = h();
      const id = await insertOne(store, { maxAttempts: 4 });
      const lease = await claimOne(store);
      await store.jobs.fail([{ ...lease, error: jobError(1), retryAt: null }]);
      const retried = await store.jobs.retry(id);
      assert.equal(retried?.state, "available");
      assert.equal(retried?.attempt, 0);
      assert.equal(retried?.maxAttempts, 4);
      assert.ok(retried && Math.abs(retried.runAt.getTime() - Date.now()) < 5_000);
      assert.equal(retried?.finishedAt, null);
      const again = await claimOne(store);
      assert.equal(again.id, id);
      assert.equal(again.attempt, 1);
      const unchanged = await store.jobs.retry(id);
      assert.equal(unchanged?.state, "running");
      assert.equal(unchanged?.leaseToken, again.leaseToken);
      const future = await insertOne(store, { runAt: new Date(Date.now() + 60_000) });
      assert.equal((await store.jobs.retry(future))?.state, "scheduled");
      assert.equal(await store.jobs.retry("987654321"), null);
    });

    it("retries cancelled and completed jobs too", async () => {
      const { store } = h();
      const cancelled = await insertOne(store);
      await store.jobs.cancel(cancelled);
      assert.equal((await store.jobs.retry(cancelled))?.state, "available");
      const lease = await claimOne(store);
      await store.jobs.complete([{ ...lease, result: null }]);
      assert.equal((await store.jobs.retry(cancelled))?.state, "available");
    });
  });

  describe("get and list", () => {
    it("returns null for an unknown id", async () => {
      assert.equal(await h().store.jobs.get("123456789"), null);
    });

    it("lists newest first, filtered by queue, kind, state and batch, with limit and beforeId", async () => {
      const { store } = h();
      const ids = (
        await store.jobs.insert([
          newJob({ queue: "a", kind: "x" }),
          newJob({ queue: "a", kind: "y" }),
          newJob({ queue: "b", kind: "x", batchId: "bb", batchIndex: 0 }),
          newJob({ queue: "a", kind: "x", runAt: new Date(Date.now() + 60_000) }),
        ])
      ).map((r) => r.id);
      const all = await store.jobs.list({});
      assert.deepEqual(
        all.map((j) => j.id),
        [...ids].reverse(),
      );
      assert.deepEqual(
        (await store.jobs.list({ queue: "a" })).map((j) => j.id),
        [ids[3], ids[1], ids[0]],
      );
      assert.deepEqual(
        (await store.jobs.list({ queue: "a", kind: "x" })).map((j) => j.id),
        [ids[3], ids[0]],
      );
      assert.deepEqual(
        (await store.jobs.list({ state: "scheduled" })).map((j) => j.id),
        [ids[3]],
      );
      assert.deepEqual(
        (await store.jobs.list({ batchId: "bb" })).map((j) => j.id),
        [ids[2]],
      );
      assert.deepEqual(
        (await store.jobs.list({ limit: 2 })).map((j) => j.id),
        [ids[3], ids[2]],
      );
      assert.deepEqual(
        (await store.jobs.list({ beforeId: ids[2]!, limit: 10 })).map((j) => j.id),
        [ids[1], ids[0]],
      );
    });
  });

  describe("prune", () => {
    it("deletes only final jobs finished before the cut-off, at most limit per call", async () => {
      const { store } = h();
      const finished: string[] = [];
      for (let i = 0; i < 3; i++) {
        finished.push(await insertOne(store));
        const lease = await claimOne(store);
        await store.jobs.complete([{ ...lease, result: null }]);
      }
      const discarded = await insertOne(store);
      const lease = await claimOne(store);
      await store.jobs.fail([{ ...lease, error: jobError(1), retryAt: null }]);
      const cancelled = await insertOne(store);
      await store.jobs.cancel(cancelled);
      const pending = await insertOne(store, { runAt: new Date(Date.now() + 60_000) });

      assert.equal(
        await store.jobs.prune(new Date(Date.now() - 60_000), 100),
        0,
        "nothing finished an hour ago",
      );
      const cutoff = new Date(Date.now() + 1_000);
      assert.equal(await store.jobs.prune(cutoff, 2), 2);
      assert.equal(await store.jobs.prune(cutoff, 100), 3);
      assert.equal(await store.jobs.prune(cutoff, 100), 0);
      for (const id of [...finished, discarded, cancelled]) assert.equal(await store.jobs.get(id), null);
      assert.equal((await store.jobs.get(pending))?.state, "scheduled");
    });
  });

  describe("stats", () => {
    it("counts per queue: runnable, running, scheduled, retryable, rates and oldest age", async () => {
      const { store } = h();
      const t = Date.now();
      await store.jobs.insert([
        newJob({ queue: "s1", runAt: new Date(t - 5_000) }),
        newJob({ queue: "s1" }),
        newJob({ queue: "s1" }),
        newJob({ queue: "s1" }),
        newJob({ queue: "s1", runAt: new Date(t + 600_000) }),
        newJob({ queue: "s2" }),
      ]);
      const l1 = await claimOne(store, { queue: "s1" }); // the 5 s old one
      const l2 = await claimOne(store, { queue: "s1" });
      await claimOne(store, { queue: "s1" });
      await store.jobs.complete([{ ...l1, result: null }]);
      await store.jobs.fail([{ ...l2, error: jobError(1), retryAt: new Date(Date.now() + 600_000) }]);
      const oldWaiting = await insertOne(store, { queue: "s2", runAt: new Date(Date.now() - 5_000) });
      assert.ok(oldWaiting);

      const stats = await store.jobs.stats();
      const s1 = stats.find((s) => s.queue === "s1");
      const s2 = stats.find((s) => s.queue === "s2");
      assert.ok(s1 && s2, `both queues reported: ${JSON.stringify(stats)}`);
      assert.equal(s1.available, 1);
      assert.equal(s1.running, 1);
      assert.equal(s1.scheduled, 1);
      assert.equal(s1.retryable, 1);
      assert.ok(Math.abs(s1.enqueuedPerSec - 5 / 60) < 1e-6, `enqueuedPerSec ${s1.enqueuedPerSec}`);
      assert.ok(Math.abs(s1.completedPerSec - 1 / 60) < 1e-6, `completedPerSec ${s1.completedPerSec}`);
      assert.ok(s1.oldestAvailableAgeMs >= 0 && s1.oldestAvailableAgeMs < 60_000);
      assert.equal(s2.available, 2);
      assert.equal(s2.running, 0);
      assert.ok(s2.oldestAvailableAgeMs >= 4_000, `oldest runnable waited 5 s: ${s2.oldestAvailableAgeMs}`);
      assert.ok(s2.oldestAvailableAgeMs < 60_000);
    });

    it("reports an empty store as []", async () => {
      const { store } = h();
      assert.deepEqual(await store.jobs.stats(), []);
    });
  });
}
