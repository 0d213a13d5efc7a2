import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Store } from "../../../src/store/index.ts";
import type { FreshStore } from "../../support/backends.ts";
import { newJob } from "./helpers.ts";

const DAY = 24 * 3600 * 1000;

function rated(n: number, queue: string, limit: number, periodMs: number) {
  return Array.from({ length: n }, () =>
    newJob({
      queue,
      concurrencyKey: "api",
      concurrencyLimit: null,
      rateLimit: limit,
      ratePeriodMs: periodMs,
    }),
  );
}

async function claim(store: Store, queue: string, limit: number, start = limit) {
  return store.jobs.claim({ queue, limit, workerId: "w", leaseMs: 60_000, start });
}

/** Rate limits: the claim counts starts per window and leaves jobs over the limit pending. */
export function describeRateLimits(h: () => FreshStore): void {
  describe("rate limits", () => {
    it("starts at most the limit per window; the others stay available with no attempt spent", async () => {
      const { store } = h();
      await store.jobs.insert(rated(10, "rated", 3, DAY));
      const first = await claim(store, "rated", 10);
      assert.equal(first.length, 3, "the window allows 3 starts");
      assert.ok(
        first.every((j) => j.ratePeriodMs === DAY),
        "each claimed job names its window, for its worker's next poll",
      );
      await store.jobs.complete(first.map((j) => ({ id: j.id, leaseToken: j.leaseToken, result: null })));
      assert.deepEqual(
        await claim(store, "rated", 10),
        [],
        "the window's starts are spent, not its running jobs",
      );
      const waiting = await store.jobs.list({ queue: "rated", state: "available" });
      assert.equal(waiting.length, 7);
      assert.ok(waiting.every((j) => j.attempt === 0 && j.errors.length === 0));
    });

    it("counts only jobs that start now (not those claimed ahead)", async () => {
      const { store } = h();
      await store.jobs.insert(rated(10, "ahead", 5, DAY));
      const claimed = await claim(store, "ahead", 10, 2);
      assert.equal(claimed.length, 2);
      assert.ok(claimed.every((j) => j.started));
      assert.equal((await claim(store, "ahead", 10)).length, 3, "the rest of the window");
    });

    it("holds the limit under concurrent claims from several store instances", async () => {
      const { store, openAnother } = h();
      const other = await openAnother();
      await store.jobs.insert(rated(30, "race", 4, DAY));
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => claim(i % 2 === 0 ? store : other, "race", 3)),
      );
      assert.equal(claims.flat().length, 4);
    });

    it("a new window allows new starts", async () => {
      const { store } = h();
      await store.jobs.insert(rated(6, "window", 2, 200));
      const seen = (await claim(store, "window", 10)).length;
      assert.ok(seen <= 2);
      let total = seen;
      for (let i = 0; i < 100 && total < 6; i++) {
        await new Promise((r) => setTimeout(r, 50));
        total += (await claim(store, "window", 10)).length;
      }
      assert.equal(total, 6, "every job started over the following windows");
      const jobs = await store.jobs.list({ queue: "window", state: "running" });
      const perWindow = new Map<number, number>();
      for (const j of jobs) {
        const w = Math.floor(j.startedAt!.getTime() / 200);
        perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
      }
      for (const [w, n] of perWindow) assert.ok(n <= 2, `window ${w} started ${n}`);
    });

    it("pruneRateWindows deletes the windows that ended and keeps the running ones", async () => {
      const { store } = h();
      await store.jobs.insert(rated(3, "day", 1, DAY));
      await store.jobs.insert([
        ...rated(3, "short", 1, 20),
        newJob({
          queue: "short",
          concurrencyKey: "other",
          concurrencyLimit: null,
          rateLimit: 1,
          ratePeriodMs: 20,
        }),
      ]);
      await store.jobs.setQueueLimits("capped", { rate: { limit: 5, periodMs: 20 } });
      await store.jobs.insert([newJob({ queue: "capped" })]);
      assert.equal((await claim(store, "day", 10)).length, 1);
      assert.equal((await claim(store, "short", 10)).length, 2, "one start of each key");
      assert.equal((await claim(store, "capped", 10)).length, 1);
      // Two key windows and the queue's window end 20 ms after they began.
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(await store.jobs.pruneRateWindows(), 3, "the ended windows of both keys and the queue");
      assert.equal(await store.jobs.pruneRateWindows(), 0, "nothing left that ended");
      assert.equal(
        (await claim(store, "day", 10)).length,
        0,
        "the running day window still counts its start",
      );
      assert.equal(
        (await claim(store, "short", 10)).length,
        1,
        "a pruned key starts afresh in its new window",
      );
    });
  });
}
