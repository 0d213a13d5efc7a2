import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../../src/errors/tend-error.ts";
import type { QueueLimitsChange, Store } from "../../../src/store/index.ts";
import type { FreshStore } from "../../support/backends.ts";
import { newJob } from "./helpers.ts";

const DAY = 24 * 3600 * 1000;

async function claim(store: Store, queue: string, limit: number, start = limit) {
  return store.jobs.claim({ queue, limit, workerId: "w", leaseMs: 60_000, start });
}

async function insert(store: Store, queue: string, n: number, extra: Parameters<typeof newJob>[0] = {}) {
  await store.jobs.insert(Array.from({ length: n }, () => newJob({ queue, ...extra })));
}

/** setQueueLimits, listQueues' limits, and the claim holding a queue's own limits. */
export function describeQueueLimits(h: () => FreshStore): void {
  describe("queue limits", () => {
    it("are stored, listed, changed field by field and cleared", async () => {
      const { store } = h();
      const set = await store.jobs.setQueueLimits("mail", {
        concurrency: 3,
        rate: { limit: 10, periodMs: 1_000 },
      });
      assert.equal(set.queue, "mail");
      assert.equal(set.paused, false);
      assert.equal(set.concurrencyLimit, 3);
      assert.deepEqual(set.rateLimit, { limit: 10, periodMs: 1_000 });
      const rateOnly = await store.jobs.setQueueLimits("mail", { rate: null });
      assert.equal(rateOnly.concurrencyLimit, 3, "a field left out is kept");
      assert.equal(rateOnly.rateLimit, null);
      await store.jobs.pauseQueue("mail");
      const listed = (await store.jobs.listQueues()).find((q) => q.queue === "mail");
      assert.equal(listed?.paused, true, "a pause keeps the limits and the limits keep the pause");
      assert.equal(listed?.concurrencyLimit, 3);
      const cleared = await store.jobs.setQueueLimits("mail", { concurrency: null });
      assert.equal(cleared.concurrencyLimit, null);
      assert.equal(cleared.paused, true);
    });

    it("refuses bad limits with TEND_E_INVALID_QUEUE_LIMITS and stores nothing", async () => {
      const { store } = h();
      const bad: unknown[] = [
        { concurrency: 0 },
        { concurrency: -1 },
        { concurrency: 1.5 },
        { concurrency: 10_001 },
        { concurrency: "3" },
        { rate: { limit: 0, periodMs: 1_000 } },
        { rate: { limit: 5, periodMs: 0 } },
        { rate: { limit: 5, periodMs: 25 * 3600 * 1000 } },
        { rate: "10/1s" },
        { concurrenc: 3 },
        null,
      ];
      for (const change of bad)
        await assert.rejects(
          store.jobs.setQueueLimits("mail", change as QueueLimitsChange),
          (err: unknown) => isTendError(err) && err.code === "TEND_E_INVALID_QUEUE_LIMITS",
          JSON.stringify(change),
        );
      await assert.rejects(
        store.jobs.setQueueLimits("bad/queue", { concurrency: 1 }),
        (err: unknown) => isTendError(err) && err.code === "TEND_E_INVALID_QUEUE",
      );
      assert.deepEqual(await store.jobs.listQueues(), []);
    });

    it("a concurrency limit holds across store instances, counting jobs claimed ahead", async () => {
      const { store, openAnother } = h();
      const other = await openAnother();
      await insert(store, "capped", 10);
      await insert(store, "free", 5);
      await store.jobs.setQueueLimits("capped", { concurrency: 3 });
      const claims = await Promise.all(
        Array.from({ length: 6 }, (_, i) => claim(i % 2 === 0 ? store : other, "capped", 2, 1)),
      );
      const held = claims.flat();
      assert.equal(held.length, 3, "3 running at most, claimed ahead included");
      assert.ok(
        held.every((j) => j.capped === true),
        "jobs of a capped queue say so",
      );
      assert.equal((await claim(store, "free", 10)).length, 5, "other queues are not limited");
      await store.jobs.complete([{ id: held[0]!.id, leaseToken: held[0]!.leaseToken, result: null }]);
      assert.equal((await claim(other, "capped", 10)).length, 1, "an end frees one slot");
      assert.equal((await claim(store, "capped", 10)).length, 0);
    });

    it("holds over keyed jobs too (the stricter limit wins)", async () => {
      const { store, openAnother } = h();
      const other = await openAnother();
      await insert(store, "mixed", 6, { concurrencyKey: "tenant:1", concurrencyLimit: 5 });
      await insert(store, "mixed", 6);
      await other.jobs.setQueueLimits("mixed", { concurrency: 4 });
      const got = [...(await claim(store, "mixed", 10)), ...(await claim(other, "mixed", 10))];
      assert.equal(got.length, 4);
      assert.ok(
        got.some((j) => j.concurrencyKey === "tenant:1"),
        "keys are still served round-robin",
      );
    });

    it("a rate limit counts starts per window across store instances; nothing is claimed ahead", async () => {
      const { store, openAnother } = h();
      const other = await openAnother();
      await insert(store, "rated", 10);
      await store.jobs.setQueueLimits("rated", { rate: { limit: 4, periodMs: DAY } });
      const first = await claim(store, "rated", 10, 1);
      assert.equal(first.length, 1, "only jobs that start now");
      assert.ok(first[0]!.started);
      assert.equal(first[0]!.ratePeriodMs, DAY, "the queue's window, for its worker's next poll");
      await store.jobs.complete(first.map((j) => ({ id: j.id, leaseToken: j.leaseToken, result: null })));
      const rest = await Promise.all([claim(store, "rated", 10), claim(other, "rated", 10)]);
      assert.equal(rest.flat().length, 3, "the window's other 3 starts, whoever claims");
      assert.equal((await claim(other, "rated", 10)).length, 0);
      assert.equal((await store.jobs.list({ queue: "rated", state: "available" })).length, 6);
    });

    it("a new rate window allows new starts", async () => {
      const { store } = h();
      await insert(store, "window", 6);
      await store.jobs.setQueueLimits("window", { rate: { limit: 2, periodMs: 200 } });
      let total = 0;
      for (let i = 0; i < 100 && total < 6; i++) {
        total += (await claim(store, "window", 10)).length;
        if (total < 6) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(total, 6);
      const perWindow = new Map<number, number>();
      for (const j of await store.jobs.list({ queue: "window", state: "running" })) {
        const w = Math.floor(j.startedAt!.getTime() / 200);
        perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
      }
      for (const [w, n] of perWindow) assert.ok(n <= 2, `window ${w} started ${n}`);
    });

    it("cleared limits no longer hold, in any store instance", async () => {
      const { store, openAnother } = h();
      const other = await openAnother();
      await insert(store, "cleared", 5);
      await store.jobs.setQueueLimits("cleared", { concurrency: 1 });
      assert.equal((await claim(other, "cleared", 10)).length, 1);
      await store.jobs.setQueueLimits("cleared", { concurrency: null });
      assert.equal((await claim(store, "cleared", 10)).length, 4);
    });
  });
}
