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
}
