import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../../src/errors/tend-error.ts";
import type { FreshStore } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { claimOne, insertOne, jobError, newJob } from "./helpers.ts";

/** cron ticks, batches, the caller's transaction and notifications. */
export function describeCronBatchTransactions(h: () => FreshStore): void {
  describe("cron", () => {
    it("enqueues a tick exactly once across concurrent callers, and never an older tick", async () => {
      const { store, openAnother } = h();
      const stores = [store, await openAnother()];
      assert.equal(await store.jobs.lastCronTick("nightly"), null);
      const tick = new Date(Date.UTC(2030, 0, 1, 3, 0, 0));
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          stores[i % stores.length]!.jobs.enqueueCronTick(
            "nightly",
            tick,
            newJob({ kind: "cron.job", queue: "cron" }),
          ),
        ),
      );
      assert.equal(outcomes.filter(Boolean).length, 1, "exactly one caller enqueued the tick");
      assert.equal((await store.jobs.lastCronTick("nightly"))?.getTime(), tick.getTime());
      assert.equal((await store.jobs.list({ queue: "cron" })).length, 1);

      const earlier = new Date(tick.getTime() - 86_400_000);
      assert.equal(await store.jobs.enqueueCronTick("nightly", earlier, newJob({ queue: "cron" })), false);
      const later = new Date(tick.getTime() + 86_400_000);
      assert.equal(await store.jobs.enqueueCronTick("nightly", later, newJob({ queue: "cron" })), true);
      assert.equal((await store.jobs.lastCronTick("nightly"))?.getTime(), later.getTime());
      assert.equal((await store.jobs.list({ queue: "cron" })).length, 2);
      assert.equal(await store.jobs.lastCronTick("other"), null);
    });
  });

  describe("batches", () => {
    it("reports progress and returns jobs ordered by batchIndex", async () => {
      const { store } = h();
      const results = await store.jobs.insert([
        newJob({ batchId: "b1", batchIndex: 2, kind: "k2" }),
        newJob({ batchId: "b1", batchIndex: 0, kind: "k0" }),
        newJob({ batchId: "b1", batchIndex: 1, kind: "k1" }),
        newJob({ batchId: "b2", batchIndex: 0, queue: "elsewhere" }),
      ]);
      assert.deepEqual(await store.jobs.batchProgress("b1"), { batchId: "b1", total: 3, finished: 0 });
      const jobs = await store.jobs.batchJobs("b1");
      assert.deepEqual(
        jobs.map((j) => j.kind),
        ["k0", "k1", "k2"],
      );
      const first = await claimOne(store);
      const second = await claimOne(store);
      assert.deepEqual([first.id, second.id], [results[0]?.id, results[1]?.id]);
      await store.jobs.complete([{ ...first, result: JSON.stringify({ r: 2 }) }]);
      await store.jobs.fail([{ ...second, error: jobError(1), retryAt: null }]);
      assert.deepEqual(await store.jobs.batchProgress("b1"), { batchId: "b1", total: 3, finished: 2 });
      const after = await store.jobs.batchJobs("b1");
      assert.deepEqual(after[2]?.result, { r: 2 });
      assert.deepEqual(await store.jobs.batchProgress("none"), { batchId: "none", total: 0, finished: 0 });
      assert.deepEqual(await store.jobs.batchJobs("none"), []);
    });
  });

  describe("caller transaction", () => {
    it("inserts inside the caller's transaction: visible only after commit", async () => {
      const { store, inCallerTransaction } = h();
      let id = "";
      await inCallerTransaction(async (tx) => {
        const [r] = await store.jobs.insert([newJob({ queue: "txq", uniqueKey: "tx-1" })], tx);
        assert.equal(r?.inserted, true);
        id = r?.id ?? "";
        assert.equal(await store.jobs.get(id), null, "not visible to the store before commit");
      }, "commit");
      assert.equal((await store.jobs.get(id))?.state, "available");
      assert.equal((await claimOne(store, { queue: "txq" })).id, id);
    });

    it("leaves nothing behind when the caller rolls back", async () => {
      const { store, inCallerTransaction } = h();
      let id = "";
      await inCallerTransaction(async (tx) => {
        const results = await store.jobs.insert(
          [newJob({ queue: "txq", uniqueKey: "tx-2" }), newJob({ queue: "txq" })],
          tx,
        );
        id = results[0]?.id ?? "";
      }, "rollback");
      assert.equal(await store.jobs.get(id), null);
      assert.deepEqual(await store.jobs.list({ queue: "txq" }), []);
      const [again] = await store.jobs.insert([newJob({ queue: "txq", uniqueKey: "tx-2" })]);
      assert.equal(again?.inserted, true, "the rolled-back unique key is free");
    });

    it("rejects a handle that is not a transaction on this database with TEND_E_INVALID_TRANSACTION", async () => {
      const { store } = h();
      for (const bad of [{}, "tx", 42]) {
        await assert.rejects(store.jobs.insert([newJob()], bad), (err: unknown) =>
          isTendError(err, "TEND_E_INVALID_TRANSACTION"),
        );
      }
    });
  });

  describe("notifications", () => {
    it("tells 'jobs' listeners when jobs are inserted, and stops after unlisten", async () => {
      const { store } = h();
      const heard: string[] = [];
      const stop = await store.notifier.listen("jobs", (p) => heard.push(p));
      await insertOne(store, { queue: "wake" });
      await waitFor(() => heard.includes("wake") || heard.includes("*"), {
        message: "a 'jobs' notification",
      });
      await stop();
      const count = heard.length;
      await store.notifier.notify("jobs", "after-stop");
      await store.notifier.notify("jobs", "after-stop-2");
      // Give a delivery a chance, then check nothing new arrived for this listener.
      await new Promise((r) => setImmediate(r));
      assert.ok(!heard.includes("after-stop") && !heard.includes("after-stop-2"));
      assert.ok(heard.length >= count);
    });

    it("delivers notify() payloads to listeners of that channel, from another Store instance too", async () => {
      const { store, openAnother } = h();
      const other = await openAnother();
      const heard: string[] = [];
      const stop = await store.notifier.listen("custom-channel", (p) => heard.push(p));
      await other.notifier.notify("custom-channel", "hello");
      await waitFor(() => heard.includes("hello"), { message: "the 'hello' payload" });
      await stop();
    });

    it("tells 'jobs' listeners about jobs inserted in a caller's transaction once it commits", async () => {
      const { store, inCallerTransaction } = h();
      const heard: string[] = [];
      const stop = await store.notifier.listen("jobs", (p) => heard.push(p));
      await inCallerTransaction(async (tx) => {
        await store.jobs.insert([newJob({ queue: "txwake" })], tx);
      }, "commit");
      await waitFor(() => heard.includes("txwake") || heard.includes("*"), {
        message: "a 'jobs' notification after the caller's commit",
      });
      await stop();
    });

    it("tells 'cancel' listeners the id of a running job whose cancel was requested", async () => {
      const { store } = h();
      const heard: string[] = [];
      const stop = await store.notifier.listen("cancel", (p) => heard.push(p));
      const id = await insertOne(store);
      await claimOne(store);
      await store.jobs.cancel(id);
      await waitFor(() => heard.includes(id) || heard.includes("*"), { message: "a 'cancel' notification" });
      await stop();
    });
  });
}
