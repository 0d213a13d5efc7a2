import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../../src/errors/tend-error.ts";
import type { FreshStore } from "../../support/backends.ts";
import { claimOne, insertOne } from "./helpers.ts";

/** pauseQueue, resumeQueue, listQueues, and the claim's refusal of a paused queue. */
export function describeQueues(h: () => FreshStore): void {
  describe("pause and resume", () => {
    it("a paused queue yields nothing to any store instance's claim; resumed, it yields its jobs", async () => {
      const { store, openAnother } = h();
      const other = await openAnother();
      const id = await insertOne(store, { queue: "mail" });
      await insertOne(store, { queue: "other" });
      const paused = await store.jobs.pauseQueue("mail");
      assert.equal(paused.queue, "mail");
      assert.equal(paused.paused, true);
      assert.ok(paused.changedAt instanceof Date);
      for (const s of [store, other]) {
        const claimed = await s.jobs.claim({ queue: "mail", limit: 10, workerId: "w", leaseMs: 60_000 });
        assert.deepEqual(claimed, [], "nothing claimed from the paused queue");
      }
      assert.equal((await claimOne(other, { queue: "other" })).attempt, 1, "other queues are not paused");
      assert.equal((await store.jobs.get(id))?.state, "available");
      const resumed = await other.jobs.resumeQueue("mail");
      assert.equal(resumed.paused, false);
      assert.equal((await claimOne(store, { queue: "mail" })).id, id);
    });

    it("is idempotent: pausing twice keeps changedAt; listQueues shows every stored queue by name", async () => {
      const { store } = h();
      assert.deepEqual(await store.jobs.listQueues(), []);
      const first = await store.jobs.pauseQueue("b-queue");
      const again = await store.jobs.pauseQueue("b-queue");
      assert.equal(again.changedAt.getTime(), first.changedAt.getTime());
      await store.jobs.resumeQueue("a-queue");
      const list = await store.jobs.listQueues();
      assert.deepEqual(
        list.map((q) => [q.queue, q.paused]),
        [
          ["a-queue", false],
          ["b-queue", true],
        ],
      );
      const resumed = await store.jobs.resumeQueue("b-queue");
      assert.ok(resumed.changedAt.getTime() >= first.changedAt.getTime());
      assert.equal((await store.jobs.listQueues()).find((q) => q.queue === "b-queue")?.paused, false);
    });

    it("notifies the queues channel of another store instance on pause and resume", async () => {
      const { store, openAnother } = h();
      const other = await openAnother();
      const heard: string[] = [];
      let wake: () => void = () => {};
      const stop = await other.notifier.listen("queues", (payload) => {
        heard.push(payload);
        wake();
      });
      try {
        // SQLite tells another instance "something changed" ("*"); PostgreSQL names the queue.
        const notice = new Promise<void>((resolve) => {
          wake = resolve;
        });
        await store.jobs.pauseQueue("told");
        await notice;
        assert.ok(
          heard.every((p) => p === "told" || p === "*"),
          `payloads: ${heard.join(",")}`,
        );
      } finally {
        await stop();
      }
    });

    it("rejects a bad queue name with TEND_E_INVALID_QUEUE", async () => {
      const { store } = h();
      for (const bad of ["", "has space", "x".repeat(129), 42, null]) {
        await assert.rejects(store.jobs.pauseQueue(bad as string), (e: unknown) =>
          isTendError(e, "TEND_E_INVALID_QUEUE"),
        );
        await assert.rejects(store.jobs.resumeQueue(bad as string), (e: unknown) =>
          isTendError(e, "TEND_E_INVALID_QUEUE"),
        );
      }
    });
  });
}
