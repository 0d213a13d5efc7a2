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

    it("skips a tick while the last tick's job is pending or running (overlap skip), and counts it", async () => {
      const { store } = h();
      await store.jobs.registerCron([
        { name: "every", kind: "cron.job", expression: "* * * * * *", timezone: "UTC", overlap: "skip" },
      ]);
      const t = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s));
      const job = () => newJob({ kind: "cron.job", queue: "ov" });
      const first = await store.jobs.cronTick("every", t(1), job(), "skip");
      assert.equal(first.outcome, "enqueued");
      assert.deepEqual(await store.jobs.cronTick("every", t(2), job(), "skip"), {
        outcome: "skipped",
        jobId: first.jobId,
      });
      assert.deepEqual(await store.jobs.cronTick("every", t(2), job(), "skip"), {
        outcome: "taken",
        jobId: null,
      });
      const lease = await claimOne(store, { queue: "ov" });
      assert.equal(lease.id, first.jobId);
      assert.equal((await store.jobs.cronTick("every", t(3), job(), "skip")).outcome, "skipped", "running");
      // overlap allow enqueues whatever runs.
      const allowed = await store.jobs.cronTick("every", t(4), job(), "allow");
      assert.equal(allowed.outcome, "enqueued");
      await store.jobs.complete([{ ...lease, result: null }]);
      assert.equal(
        (await store.jobs.cronTick("every", t(5), job(), "skip")).outcome,
        "skipped",
        "the allowed one pends",
      );
      await store.jobs.cancel(allowed.jobId!);
      const again = await store.jobs.cronTick("every", t(6), job(), "skip");
      assert.equal(again.outcome, "enqueued");
      assert.equal((await store.jobs.list({ queue: "ov" })).length, 3);
      const [entry] = await store.jobs.listCron();
      assert.equal(entry?.name, "every");
      assert.equal(entry.skipped, 3);
      assert.equal(entry.lastSkippedAt?.getTime(), t(5).getTime());
      assert.equal(entry.lastTick?.getTime(), t(6).getTime());
      assert.equal(entry.lastJobId, again.jobId);
      assert.equal(entry.lastJobState, "available");
      assert.equal(entry.timezone, "UTC");
      assert.equal(entry.overlap, "skip");
      assert.equal(entry.paused, false);
    });

    it("a tick's job keeps its concurrency key, limits and trace context, and the claim honours them", async () => {
      const { store } = h();
      const t = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s));
      const job = () =>
        newJob({
          kind: "cron.keyed",
          queue: "ck",
          concurrencyKey: "tenant-1",
          concurrencyLimit: 1,
          rateLimit: 5,
          ratePeriodMs: 1_000,
          traceContext: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        });
      const first = await store.jobs.cronTick("keyed", t(1), job(), "allow");
      assert.equal(first.outcome, "enqueued");
      const row = await store.jobs.get(first.jobId!);
      assert.equal(row?.concurrencyKey, "tenant-1");
      assert.equal(row?.concurrencyLimit, 1);
      assert.deepEqual(row?.rateLimit, { limit: 5, periodMs: 1_000 });
      assert.equal((await store.jobs.cronTick("keyed", t(2), job(), "allow")).outcome, "enqueued");
      // Two jobs of one key of limit 1: the claim takes one.
      const claimed = await store.jobs.claim({ queue: "ck", limit: 10, workerId: "w", leaseMs: 10_000 });
      assert.equal(claimed.length, 1);
      assert.equal(claimed[0]?.concurrencyKey, "tenant-1");
      assert.equal(claimed[0]?.traceContext, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    });

    it("pauses an entry for every store instance: ticks are recorded and enqueue nothing until resumed", async () => {
      const { store, openAnother } = h();
      const other = await openAnother();
      await store.jobs.registerCron([
        { name: "p", kind: "cron.job", expression: "0 * * * *", timezone: null, overlap: "allow" },
      ]);
      assert.equal(await other.jobs.setCronPaused("p", true), true);
      assert.equal(await other.jobs.setCronPaused("nope", true), false);
      const t = (h: number) => new Date(Date.UTC(2030, 0, 1, h));
      assert.deepEqual(await store.jobs.cronTick("p", t(1), newJob({ queue: "pz" }), "allow"), {
        outcome: "paused",
        jobId: null,
      });
      assert.equal((await store.jobs.lastCronTick("p"))?.getTime(), t(1).getTime(), "the tick is recorded");
      assert.equal(await store.jobs.enqueueCronTick("p", t(2), newJob({ queue: "pz" })), false);
      assert.equal((await store.jobs.list({ queue: "pz" })).length, 0);
      assert.equal((await other.jobs.listCron())[0]?.paused, true);
      // Registering again (a restart) keeps the pause.
      await store.jobs.registerCron([
        { name: "p", kind: "cron.job", expression: "30 * * * *", timezone: "UTC", overlap: "skip" },
      ]);
      const [entry] = await store.jobs.listCron();
      assert.equal(entry?.paused, true);
      assert.equal(entry.expression, "30 * * * *");
      assert.equal(await store.jobs.setCronPaused("p", false), true);
      assert.equal(
        (await store.jobs.cronTick("p", t(3), newJob({ queue: "pz" }), "skip")).outcome,
        "enqueued",
      );
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

    it("tells 'jobs' listeners when a failed job is to be retried now, not when its retry is later", async () => {
      const { store } = h();
      const heard: string[] = [];
      const stop = await store.notifier.listen("jobs", (p) => heard.push(p));
      try {
        await insertOne(store, { queue: "retry-later" });
        await insertOne(store, { queue: "retry-now" });
        const later = await claimOne(store, { queue: "retry-later" });
        const now = await claimOne(store, { queue: "retry-now" });
        heard.length = 0;
        await store.jobs.fail([{ ...later, error: jobError(1), retryAt: new Date(Date.now() + 3_600_000) }]);
        await store.jobs.fail([{ ...now, error: jobError(1), retryAt: new Date(Date.now() - 1_000) }]);
        // Other processes' workers hear of the job due now at once, not at their next poll.
        await waitFor(() => heard.includes("retry-now") || heard.includes("*"), {
          message: "a 'jobs' notification for the retry due now",
        });
        assert.ok(!heard.includes("retry-later"), `heard ${JSON.stringify(heard)}`);
      } finally {
        await stop();
      }
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
