import assert from "node:assert/strict";
import { it } from "node:test";
import type { Store } from "../../../src/store/index.ts";
import type { Backend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { deferred, makeJobs, startJobs, uniqueQueue, waitForState } from "./helpers.ts";

export function leases(ctx: () => { backend: Backend; store: Store }): void {
  it("rescues a job whose worker died once its lease lapses, counting the attempt, and fences the stale worker", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store, { lease: 1_000 });
    const { id } = await jobs.enqueue("rescued", { n: 1 }, { queue });
    // A worker that claims the job and then dies: its lease is never renewed.
    const [claimed] = await store.jobs.claim({ queue, limit: 1, workerId: "dead-worker", leaseMs: 300 });
    assert.equal(claimed?.id, id);
    jobs.define("rescued", ({ attempt }) => ({ attempt }), { queue });
    const worker = await startJobs(jobs);
    try {
      const job = await waitForState(jobs, id, "completed", 10_000);
      assert.equal(job.attempt, 2);
      assert.deepEqual(job.result, { attempt: 2 });
      assert.equal(job.errors[0]?.code, "TEND_E_LEASE_EXPIRED");
      // The dead worker wakes up and tries to write: nothing changes.
      const stale = await store.jobs.complete([
        { id, leaseToken: claimed!.leaseToken, result: JSON.stringify("stale") },
      ]);
      assert.deepEqual(stale, []);
      const after = await jobs.get(id);
      assert.deepEqual(after?.result, { attempt: 2 });
    } finally {
      await worker.stop();
    }
  });

  it("graceful stop lets in-flight jobs finish and claims nothing more", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store, { concurrency: 1 });
    const started = deferred();
    const finish = deferred();
    jobs.define(
      "drain",
      async () => {
        started.resolve();
        await finish.promise;
        return "finished";
      },
      { queue },
    );
    const a = await jobs.enqueue("drain");
    const b = await jobs.enqueue("drain");
    const worker = await startJobs(jobs);
    await started.promise;
    const stopping = worker.stop();
    finish.resolve();
    await stopping;
    const first = await jobs.get(a.id);
    const second = await jobs.get(b.id);
    assert.equal(first?.state, "completed");
    assert.equal(first?.result, "finished");
    assert.equal(second?.state, "available", "the second job was never claimed");
    assert.equal(second?.attempt, 0);
  });

  it("at the end of the drain budget aborts handlers and returns their jobs without spending the attempt", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store, { drainTimeout: 200 });
    const started = deferred();
    let abortedWith: unknown;
    jobs.define(
      "stubborn",
      async ({ signal }) => {
        started.resolve();
        await new Promise<void>((_, reject) =>
          signal.addEventListener("abort", () => {
            abortedWith = signal.reason;
            reject(new Error("aborted"));
          }),
        );
      },
      { queue },
    );
    const { id } = await jobs.enqueue("stubborn");
    const worker = await startJobs(jobs);
    await started.promise;
    await worker.stop();
    assert.equal(abortedWith, "shutdown");
    const job = await jobs.get(id);
    assert.equal(job?.state, "available");
    assert.equal(job?.attempt, 0, "the attempt was not spent");
    assert.equal(job?.leaseToken, null);
    assert.deepEqual(job?.errors, []);
    const running = await jobs.list({ queue, state: "running" });
    assert.deepEqual(running, [], "no job is left running");
  });

  it("claims ahead with prefetch and returns unstarted jobs on stop without spending their attempt", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store, { concurrency: 1, prefetch: 4 });
    const started = deferred();
    const finish = deferred();
    jobs.define(
      "ahead",
      async () => {
        started.resolve();
        await finish.promise;
      },
      { queue },
    );
    const ids = (await jobs.enqueueMany(Array.from({ length: 10 }, () => ({ kind: "ahead" })))).map(
      (r) => r.id,
    );
    const worker = await startJobs(jobs);
    await started.promise;
    await waitFor(async () => (await jobs.list({ queue, state: "running" })).length === 5, {
      message: "1 running + 4 claimed ahead",
    });
    assert.equal(jobs.inFlight(), 5);
    const stopping = worker.stop();
    finish.resolve();
    await stopping;
    const rows = await Promise.all(ids.map((id) => jobs.get(id)));
    assert.equal(rows.filter((r) => r?.state === "completed").length, 1);
    assert.equal(rows.filter((r) => r?.state === "available").length, 9);
    assert.ok(
      rows.filter((r) => r?.state === "available").every((r) => r?.attempt === 0 && r.errors.length === 0),
      "jobs claimed ahead were returned without spending their attempt",
    );
  });

  it("cancels a pending job at once and a running job on the process that runs it", async () => {
    const { store, backend } = ctx();
    const queue = uniqueQueue();
    const other = await backend.open();
    const runner = makeJobs(other);
    const started = deferred();
    runner.define(
      "cancellable",
      async ({ signal }) => {
        started.resolve();
        await new Promise<void>((_, reject) =>
          signal.addEventListener("abort", () => reject(new Error("cancelled"))),
        );
      },
      { queue },
    );
    const jobs = makeJobs(store);
    const pending = await jobs.enqueue("cancellable", {}, { queue, delay: 60_000 });
    const cancelledPending = await jobs.cancel(pending.id);
    assert.equal(cancelledPending.state, "cancelled");
    const { id } = await jobs.enqueue("cancellable", {}, { queue });
    const worker = await startJobs(runner);
    try {
      await started.promise;
      await jobs.cancel(id);
      const job = await waitForState(jobs, id, "cancelled", 15_000);
      assert.ok(job.finishedAt instanceof Date);
    } finally {
      await worker.stop();
    }
  });

  it("two workers on one queue never run the same job at once", async () => {
    const { store, backend } = ctx();
    const queue = uniqueQueue();
    const a = makeJobs(store, { concurrency: 8 });
    const b = makeJobs(await backend.open(), { concurrency: 8 });
    const running = new Set<string>();
    const runs = new Map<string, number>();
    let overlap = 0;
    for (const jobs of [a, b]) {
      jobs.define(
        "once",
        async ({ id }) => {
          if (running.has(id)) overlap++;
          running.add(id);
          runs.set(id, (runs.get(id) ?? 0) + 1);
          await new Promise((r) => setImmediate(r));
          running.delete(id);
        },
        { queue },
      );
    }
    await a.enqueueMany(Array.from({ length: 400 }, () => ({ kind: "once" })));
    const wa = await startJobs(a);
    const wb = await startJobs(b);
    try {
      await waitFor(() => runs.size === 400, { timeoutMs: 30_000, message: "400 jobs" });
      assert.equal(overlap, 0);
      assert.ok(
        [...runs.values()].every((n) => n === 1),
        "each job ran once",
      );
    } finally {
      await Promise.all([wa.stop(), wb.stop()]);
    }
  });
}
