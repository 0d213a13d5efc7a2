import assert from "node:assert/strict";
import { it } from "node:test";
import type { Store } from "../../../src/store/index.ts";
import type { Backend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { makeJobs, startJobs, uniqueQueue, waitForState } from "./helpers.ts";

export function operations(ctx: () => { backend: Backend; store: Store }): void {
  it("retries a discarded job with fresh attempts", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    let fail = true;
    jobs.define(
      "second.chance",
      () => {
        if (fail) throw new Error("not yet");
        return "done";
      },
      { queue, maxAttempts: 1 },
    );
    const worker = await startJobs(jobs);
    try {
      const { id } = await jobs.enqueue("second.chance");
      await waitForState(jobs, id, "discarded");
      fail = false;
      const retried = await jobs.retry(id);
      assert.ok(["available", "running", "completed"].includes(retried.state));
      const job = await waitForState(jobs, id, "completed");
      assert.equal(job.result, "done");
      assert.equal(job.errors.length, 1, "the earlier error is kept");
    } finally {
      await worker.stop();
    }
  });

  it("prunes finished jobs older than the retention", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    jobs.define("short.lived", () => undefined, { queue });
    const worker = await startJobs(jobs);
    let id: string;
    try {
      id = (await jobs.enqueue("short.lived")).id;
      await waitForState(jobs, id, "completed");
    } finally {
      await worker.stop();
    }
    const keep = await jobs.enqueue("short.lived", {}, { delay: 60_000 });
    assert.equal(await store.jobs.prune(new Date(Date.now() - 60_000), 1000), 0, "recent jobs are kept");
    let pruned = 0;
    for (let n = -1; n !== 0; pruned += n) n = await store.jobs.prune(new Date(Date.now() + 1_000), 1000);
    assert.ok(pruned >= 1);
    assert.equal(await jobs.get(id), null);
    assert.notEqual(await jobs.get(keep.id), null, "pending jobs are never pruned");
  });

  it("enqueues each cron tick exactly once across several schedulers", async () => {
    const { store, backend } = ctx();
    const queue = uniqueQueue();
    const name = `every-second-${queue}`;
    const schedulers = [makeJobs(store), makeJobs(await backend.open()), makeJobs(await backend.open())];
    // No worker runs the ticks' jobs: overlap "allow" enqueues each tick while the earlier ones pend.
    for (const jobs of schedulers)
      jobs.cron("* * * * * *", "tick", { from: "cron" }, { name, queue, overlap: "allow" });
    const runs = await Promise.all(schedulers.map((j) => startJobs(j)));
    try {
      await waitFor(async () => (await schedulers[0]!.list({ queue, kind: "tick" })).length >= 3, {
        timeoutMs: 10_000,
        message: "3 cron ticks",
      });
    } finally {
      await Promise.all(runs.map((r) => r.stop()));
    }
    const ticks = await schedulers[0]!.list({ queue, kind: "tick" });
    const times = ticks.map((t) => t.runAt.getTime());
    assert.equal(new Set(times).size, times.length, "no tick enqueued twice");
    assert.ok(
      times.every((t) => t % 1000 === 0),
      "ticks fall on whole seconds",
    );
    assert.deepEqual(ticks[0]?.payload, { from: "cron" });
  });

  it("runs a batch in other workers and returns every result in input order, failures marked", async () => {
    const { store, backend } = ctx();
    const queue = uniqueQueue();
    const producer = makeJobs(store);
    const consumer = makeJobs(await backend.open(), { concurrency: 4 });
    consumer.define(
      "square",
      ({ payload }) => {
        const n = (payload as { n: number }).n;
        if (n === 2) throw new Error("two is not allowed");
        return n * n;
      },
      { queue, maxAttempts: 1 },
    );
    const batch = await producer.batch(
      [0, 1, 2, 3, 4].map((n) => ({ kind: "square", queue, payload: { n }, maxAttempts: 1 })),
    );
    assert.equal(batch.jobIds.length, 5);
    const worker = await startJobs(consumer);
    try {
      const results = await batch.results({ timeout: "20s", pollInterval: "100ms" });
      assert.deepEqual(
        results.map((r) => [r.index, r.ok, r.result]),
        [
          [0, true, 0],
          [1, true, 1],
          [2, false, null],
          [3, true, 9],
          [4, true, 16],
        ],
      );
      assert.equal(results[2]?.state, "discarded");
      assert.equal(results[2]?.error?.message, "two is not allowed");
      const again = await producer.batchResults(batch.id, { timeout: "1s" });
      assert.deepEqual(again, results);
    } finally {
      await worker.stop();
    }
    // No job carries the id: the wait ends at once, without a timeout, rather than never.
    await assert.rejects(producer.batchResults("no-such-batch"), {
      code: "TEND_E_BATCH_NOT_FOUND",
    });
  });

  it("times out a batch wait that is not done, and ends one whose jobs are deleted meanwhile", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const producer = makeJobs(store);
    const batch = await producer.batch([
      { kind: "never-handled", queue },
      { kind: "never-handled", queue },
    ]);
    await assert.rejects(batch.results({ timeout: 50, pollInterval: 10 }), (err: unknown) => {
      assert.equal((err as { code?: string }).code, "TEND_E_BATCH_TIMEOUT");
      const details = (err as { details?: { total?: number; finished?: number } }).details;
      assert.deepEqual([details?.total, details?.finished], [2, 0]);
      return true;
    });
    // Deleted while a wait is under way (pending jobs, deleted by an operator): the wait ends.
    const waiting = batch.results({ pollInterval: "20ms" });
    for (const id of batch.jobIds) assert.equal((await store.admin.deleteJob(id)).deleted, true);
    await assert.rejects(waiting, { code: "TEND_E_BATCH_NOT_FOUND" });
  });

  it("reports per-queue statistics from the store", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    await jobs.enqueueMany([
      { kind: "s", queue },
      { kind: "s", queue },
      { kind: "s", queue },
    ]);
    await jobs.enqueue("s", {}, { queue, delay: 60_000 });
    const stats = (await jobs.stats()).find((s) => s.queue === queue);
    assert.ok(stats, "the queue is listed");
    assert.equal(stats.available, 3);
    assert.equal(stats.scheduled, 1);
    assert.equal(stats.running, 0);
    assert.equal(stats.retryable, 0);
    assert.ok(stats.enqueuedPerSec > 0);
    assert.equal(stats.completedPerSec, 0);
    assert.ok(stats.oldestAvailableAgeMs >= 0 && stats.oldestAvailableAgeMs < 60_000);
  });
}
