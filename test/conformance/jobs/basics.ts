import assert from "node:assert/strict";
import { it } from "node:test";
import type { Store } from "../../../src/store/index.ts";
import type { Backend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { deferred, makeJobs, startJobs, uniqueQueue, waitForState } from "./helpers.ts";

export function basics(ctx: () => { backend: Backend; store: Store }): void {
  it("runs a job's handler with its context and stores the result", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const seen: unknown[] = [];
    jobs.define(
      "greet",
      async ({ id, kind, payload, attempt, maxAttempts, signal, log, heartbeat, queue: q }) => {
        assert.equal(typeof log.info, "function");
        await heartbeat();
        seen.push({ id, kind, payload, attempt, maxAttempts, aborted: signal.aborted, q });
        return { hello: (payload as { name: string }).name };
      },
      { queue, maxAttempts: 4 },
    );
    const worker = await startJobs(jobs);
    try {
      const { id, inserted } = await jobs.enqueue("greet", { name: "Ada" });
      assert.equal(inserted, true);
      const job = await waitForState(jobs, id, "completed");
      assert.deepEqual(job.result, { hello: "Ada" });
      assert.equal(job.attempt, 1);
      assert.ok(job.finishedAt instanceof Date);
      assert.deepEqual(seen, [
        { id, kind: "greet", payload: { name: "Ada" }, attempt: 1, maxAttempts: 4, aborted: false, q: queue },
      ]);
    } finally {
      await worker.stop();
    }
  });

  it("enqueues thousands of jobs in one call, in input order, and runs them all", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store, { concurrency: 50 });
    const ran = new Set<number>();
    jobs.define("count", ({ payload }) => void ran.add((payload as { n: number }).n), { queue });
    const results = await jobs.enqueueMany(
      Array.from({ length: 3000 }, (_, n) => ({ kind: "count", payload: { n } })),
    );
    assert.equal(results.length, 3000);
    assert.ok(results.every((r) => r.inserted));
    const ids = results.map((r) => BigInt(r.id));
    assert.ok(
      ids.every((id, i) => i === 0 || id > ids[i - 1]!),
      "ids follow input order",
    );
    const worker = await startJobs(jobs);
    try {
      await waitFor(() => ran.size === 3000, { timeoutMs: 30_000, message: "3000 jobs to run" });
    } finally {
      await worker.stop();
    }
  });

  it("enqueues inside the caller's transaction: exists only if it commits", async () => {
    const { store, backend } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    let committedId = "";
    let rolledBackId = "";
    await backend.inCallerTransaction(async (tx) => {
      committedId = (await jobs.enqueue("tx.job", { ok: true }, { queue, tx })).id;
    }, "commit");
    await backend.inCallerTransaction(async (tx) => {
      rolledBackId = (await jobs.enqueue("tx.job", { ok: false }, { queue, tx })).id;
    }, "rollback");
    assert.notEqual(await jobs.get(committedId), null);
    assert.equal(await jobs.get(rolledBackId), null);
    const ran: unknown[] = [];
    jobs.define("tx.job", ({ payload }) => void ran.push(payload), { queue });
    const worker = await startJobs(jobs);
    try {
      await waitForState(jobs, committedId, "completed");
      assert.deepEqual(ran, [{ ok: true }]);
    } finally {
      await worker.stop();
    }
  });

  it("deduplicates by unique key while a job is pending or running, then allows it again", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const first = await jobs.enqueue("dedupe", { n: 1 }, { queue, uniqueKey: `k-${queue}` });
    const second = await jobs.enqueue("dedupe", { n: 2 }, { queue, uniqueKey: `k-${queue}` });
    assert.equal(first.inserted, true);
    assert.deepEqual(second, { id: first.id, inserted: false, outcome: "kept" });
    const many = await jobs.enqueueMany([
      { kind: "dedupe", queue, uniqueKey: `m-${queue}` },
      { kind: "dedupe", queue, uniqueKey: `m-${queue}` },
    ]);
    assert.equal(many[0]!.inserted, true);
    assert.deepEqual(many[1], { id: many[0]!.id, inserted: false, outcome: "kept" });
    jobs.define("dedupe", () => undefined, { queue });
    const worker = await startJobs(jobs);
    try {
      await waitForState(jobs, first.id, "completed");
      const third = await jobs.enqueue("dedupe", { n: 3 }, { queue, uniqueKey: `k-${queue}` });
      assert.equal(third.inserted, true);
      assert.notEqual(third.id, first.id);
    } finally {
      await worker.stop();
    }
  });

  it("runs higher priority first and holds delayed jobs until their time", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store, { concurrency: 1 });
    const order: string[] = [];
    jobs.define("p", ({ payload }) => void order.push((payload as { name: string }).name), { queue });
    await jobs.enqueue("p", { name: "low" }, { priority: 10 });
    await jobs.enqueue("p", { name: "high" }, { priority: -5 });
    await jobs.enqueue("p", { name: "mid" }, { priority: 0 });
    const delayed = await jobs.enqueue("p", { name: "later" }, { delay: 1_500 });
    const scheduled = await jobs.get(delayed.id);
    assert.equal(scheduled?.state, "scheduled");
    const worker = await startJobs(jobs);
    try {
      await waitFor(() => order.length === 3, { message: "3 immediate jobs" });
      assert.deepEqual(order, ["high", "mid", "low"]);
      const job = await waitForState(jobs, delayed.id, "completed");
      assert.ok(job.startedAt!.getTime() >= job.runAt.getTime(), "did not start before its runAt");
    } finally {
      await worker.stop();
    }
  });

  it("wakes an idle worker at once when a job is enqueued (no poll wait)", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store, { pollInterval: 60_000 });
    const started = deferred<number>();
    jobs.define("wake", () => started.resolve(Date.now()), { queue });
    const worker = await startJobs(jobs);
    try {
      // Let the worker go idle: its first claim finds nothing.
      await new Promise((r) => setImmediate(r));
      await waitFor(async () => (await store.jobs.stats()).length >= 0);
      const at = Date.now();
      await jobs.enqueue("wake");
      const ranAt = await started.promise;
      assert.ok(ranAt - at < 30_000, "ran long before the 60 s poll");
    } finally {
      await worker.stop();
    }
  });
}
