import assert from "node:assert/strict";
import { it } from "node:test";
import type { ProgressUpdate, Store } from "../../../src/store/index.ts";
import type { Backend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { deferred, makeJobs, startJobs, uniqueQueue, waitForState } from "./helpers.ts";

/** The same store, counting the progress writes that reach it (each still goes to the database). */
function countingProgress(store: Store): { store: Store; writes: () => number } {
  let writes = 0;
  const counting = (updates: readonly ProgressUpdate[]) => {
    writes++;
    return store.jobs.progress(updates);
  };
  const jobs = new Proxy(store.jobs, {
    get(target, key) {
      if (key === "progress") return counting;
      const value: unknown = Reflect.get(target, key);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: { ...store, jobs } as Store, writes: () => writes };
}

export function progress(ctx: () => { backend: Backend; store: Store }): void {
  it("stores a handler's progress while it runs, throttled, and its last value at the end", async () => {
    const counted = countingProgress(ctx().store);
    const queue = uniqueQueue();
    const jobs = makeJobs(counted.store, { progressInterval: 100 });
    const seenWhileRunning = deferred();
    const release = deferred();
    jobs.define(
      "load",
      async ({ progress: report }) => {
        const started = performance.now();
        let n = 0;
        // A hot loop for about half a second: tens of thousands of calls.
        while (performance.now() - started < 500) {
          for (let i = 0; i < 1000; i++) report({ done: ++n });
          await new Promise((r) => setImmediate(r));
        }
        await seenWhileRunning.promise;
        report({ done: n, final: true });
        await release.promise;
        return { n };
      },
      { queue },
    );
    const worker = await startJobs(jobs);
    try {
      const { id } = await jobs.enqueue("load");
      const running = await waitFor(
        async () => {
          const job = await jobs.get(id);
          return job?.state === "running" && job.progress !== null ? job : null;
        },
        { message: "progress stored while running" },
      );
      assert.equal(typeof (running.progress as { done: number }).done, "number");
      seenWhileRunning.resolve();
      release.resolve();
      const done = await waitForState(jobs, id, "completed");
      const n = (done.result as { n: number }).n;
      assert.ok(n > 1000, `the loop reported ${n} values`);
      assert.deepEqual(
        done.progress,
        { done: n, final: true },
        "the last value wins and is written at the end",
      );
      // About 0.5 s at one write per 100 ms, plus the last one: far fewer writes than calls.
      assert.ok(counted.writes() <= 12, `${counted.writes()} progress writes for ${n} calls`);
      assert.ok(counted.writes() >= 2, `${counted.writes()} progress writes`);
    } finally {
      seenWhileRunning.resolve();
      release.resolve();
      await worker.stop();
    }
  });

  it("refuses a progress value that cannot be stored: the handler gets TEND_E_INVALID_PROGRESS", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const caught: string[] = [];
    jobs.define(
      "bad.progress",
      ({ progress: report }) => {
        for (const bad of [Number.NaN, new Map(), { s: "\u0000" }]) {
          try {
            report(bad);
          } catch (err) {
            caught.push((err as { code: string }).code);
          }
        }
        try {
          report({ big: "x".repeat(5000) });
        } catch (err) {
          caught.push((err as { code: string }).code);
        }
        report({ nested: { at: 1n } });
      },
      { queue, maxAttempts: 1 },
    );
    const worker = await startJobs(jobs);
    try {
      const { id } = await jobs.enqueue("bad.progress");
      const job = await waitForState(jobs, id, "discarded");
      assert.deepEqual(caught, [
        "TEND_E_INVALID_PROGRESS",
        "TEND_E_INVALID_PROGRESS",
        "TEND_E_INVALID_PROGRESS",
        "TEND_E_PAYLOAD_TOO_LARGE",
      ]);
      assert.equal(job.errors[0]?.code, "TEND_E_INVALID_PROGRESS");
      assert.match(job.errors[0]!.message, /progress\.nested\.at/);
      assert.equal(job.progress, null);
    } finally {
      await worker.stop();
    }
  });

  it("does not write progress for a job whose lease is no longer held", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const { id } = await jobs.enqueue("p.fenced", {}, { queue });
    const [claimed] = await store.jobs.claim({ queue, limit: 1, workerId: "w", leaseMs: 30_000 });
    assert.equal(claimed?.id, id);
    assert.deepEqual(await store.jobs.progress([{ id, leaseToken: "stale", progress: "1" }]), []);
    assert.deepEqual(
      await store.jobs.progress([{ id, leaseToken: claimed.leaseToken, progress: '{"a":1}' }]),
      [id],
    );
    assert.deepEqual((await jobs.get(id))?.progress, { a: 1 });
    await store.jobs.complete([{ id, leaseToken: claimed.leaseToken, result: null }]);
    assert.deepEqual(await store.jobs.progress([{ id, leaseToken: claimed.leaseToken, progress: "2" }]), []);
    assert.deepEqual((await jobs.get(id))?.progress, { a: 1 }, "kept after completion");
  });
}
