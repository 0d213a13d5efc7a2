import assert from "node:assert/strict";
import { it } from "node:test";
import type { Store } from "../../../src/store/index.ts";
import type { Backend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { deferred, makeJobs, startJobs, uniqueQueue, waitForState } from "./helpers.ts";

export function queues(ctx: () => { backend: Backend; store: Store }): void {
  it("pausing returns the jobs claimed ahead, lets the running one finish, and resuming runs the rest", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store, { concurrency: 1, prefetch: 4 });
    const release = deferred();
    const first = deferred<string>();
    const ran: string[] = [];
    jobs.define(
      "paused.work",
      async ({ id, payload }) => {
        ran.push(id);
        if ((payload as { hold?: boolean }).hold === true) {
          first.resolve(id);
          await release.promise;
        }
      },
      { queue },
    );
    const { id: holdId } = await jobs.enqueue("paused.work", { hold: true });
    const rest = await jobs.enqueueMany(
      Array.from({ length: 4 }, (_, n) => ({ kind: "paused.work", payload: { n } })),
    );
    const worker = await startJobs(jobs);
    try {
      await first.promise;
      // The others are claimed ahead by this worker (running, never started).
      await waitFor(async () => (await jobs.list({ queue, state: "running" })).length === 5, {
        message: "the worker to claim the 4 others ahead",
      });
      const pausedAt = Date.now();
      await jobs.pauseQueue(queue);
      await waitFor(async () => (await jobs.list({ queue, state: "available" })).length === 4, {
        message: "the jobs claimed ahead to be returned",
      });
      const returnMs = Date.now() - pausedAt;
      assert.ok(returnMs < 1_000, `claimed-ahead jobs returned within a second (took ${returnMs} ms)`);
      for (const { id } of rest) assert.equal((await jobs.get(id))?.attempt, 0, "no attempt spent");
      release.resolve();
      await waitForState(jobs, holdId, "completed");
      assert.deepEqual(ran, [holdId], "nothing else started while paused");
      const info = (await jobs.listQueues()).find((q) => q.queue === queue);
      assert.equal(info?.paused, true);
      assert.equal(info?.available, 4);
      await jobs.resumeQueue(queue);
      for (const { id } of rest) await waitForState(jobs, id, "completed", 5_000);
    } finally {
      release.resolve();
      await worker.stop();
    }
  });

  it("a queue's concurrency limit holds for two workers; setQueueLimits checks its input", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const a = makeJobs(store, { concurrency: 5, prefetch: 5 });
    const b = makeJobs(store, { concurrency: 5 });
    await assert.rejects(a.setQueueLimits(queue, { concurrency: -1 }), {
      code: "TEND_E_INVALID_QUEUE_LIMITS",
    });
    await assert.rejects(a.setQueueLimits(queue, { rate: { limit: 5, per: "soon" } }), {
      code: "TEND_E_INVALID_QUEUE_LIMITS",
    });
    await assert.rejects(a.setQueueLimits(queue, { concurency: 2 } as never), {
      code: "TEND_E_UNKNOWN_OPTION",
    });
    const set = await a.setQueueLimits(queue, { concurrency: 2, rate: { limit: 100, per: "1s" } });
    assert.deepEqual([set.concurrencyLimit, set.rateLimit], [2, { limit: 100, periodMs: 1_000 }]);
    await a.setQueueLimits(queue, { rate: null });
    let running = 0;
    let most = 0;
    for (const jobs of [a, b])
      jobs.define(
        "capped.work",
        async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 20));
          running--;
        },
        { queue },
      );
    const enqueued = await a.enqueueMany(
      Array.from({ length: 12 }, (_, n) => ({ kind: "capped.work", payload: { n } })),
    );
    const workers = [await startJobs(a), await startJobs(b)];
    try {
      for (const { id } of enqueued) await waitForState(a, id, "completed", 15_000);
      assert.equal(most, 2, "never more than the queue's 2 at once, over both workers");
      const info = (await a.listQueues()).find((q) => q.queue === queue);
      assert.equal(info?.concurrencyLimit, 2);
      assert.equal(info?.rateLimit, null);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });
}
