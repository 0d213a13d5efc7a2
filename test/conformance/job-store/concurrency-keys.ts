import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Store } from "../../../src/store/index.ts";
import type { FreshStore } from "../../support/backends.ts";
import { insertOne, newJob } from "./helpers.ts";

async function claim(store: Store, limit: number, queue = "keyed") {
  return store.jobs.claim({ queue, limit, workerId: "w", leaseMs: 60_000 });
}

/** Concurrency keys: the claim's per-key limit, round-robin order, and exactness across store instances. */
export function describeConcurrencyKeys(h: () => FreshStore): void {
  describe("concurrency keys", () => {
    it("claims at most a key's limit minus its running jobs, one of every key before a second of any", async () => {
      const { store } = h();
      const t = Date.now() - 10_000;
      const a = [];
      for (let i = 0; i < 5; i++)
        a.push(
          await insertOne(store, {
            queue: "keyed",
            runAt: new Date(t + i),
            concurrencyKey: "a",
            concurrencyLimit: 2,
          }),
        );
      const b = await insertOne(store, {
        queue: "keyed",
        runAt: new Date(t + 10),
        concurrencyKey: "b",
        concurrencyLimit: 2,
      });
      const plain = await insertOne(store, { queue: "keyed", runAt: new Date(t + 20) });
      const first = await claim(store, 10);
      assert.deepEqual(
        first.map((j) => j.id),
        [a[0], b, plain, a[1]],
        "round-robin: a's first, b's, the keyless one, then a's second",
      );
      assert.deepEqual(
        first.map((j) => j.concurrencyKey ?? null),
        ["a", "b", null, "a"],
      );
      assert.deepEqual(
        first.map((j) => j.runAt.getTime()),
        [t, t + 10, t + 20, t + 1],
        "each job's run time, to the millisecond",
      );
      assert.deepEqual(await claim(store, 10), [], "key a is at its limit");
      const [done] = first;
      await store.jobs.complete([{ id: done!.id, leaseToken: done!.leaseToken, result: null }]);
      assert.deepEqual(
        (await claim(store, 10)).map((j) => j.id),
        [a[2]],
        "a slot of key a freed: one more",
      );
      // A claim of 1 still serves keys in order: the plain claim limit applies to the total.
      await insertOne(store, { queue: "keyed", concurrencyKey: "c", concurrencyLimit: 1 });
      assert.equal((await claim(store, 1)).length, 1);
    });

    it("holds a high limit exactly with many jobs of the key running, and a key without a limit is bounded by the claim alone", async () => {
      const { store } = h();
      const t = Date.now() - 10_000;
      // Many running jobs of one key, and a limit above the few jobs a key usually holds: the
      // running count and the jobs past it must still be exact.
      await store.jobs.insert(
        Array.from({ length: 40 }, (_, i) =>
          newJob({ queue: "wide", runAt: new Date(t + i), concurrencyKey: "big", concurrencyLimit: 20 }),
        ),
      );
      const first = await claim(store, 15, "wide");
      assert.equal(first.length, 15);
      const second = await claim(store, 15, "wide");
      assert.equal(second.length, 5, "15 running of limit 20: five more");
      assert.deepEqual(
        second.map((j) => j.runAt.getTime()),
        [15, 16, 17, 18, 19].map((i) => t + i),
        "the next five in claim order",
      );
      assert.deepEqual(await claim(store, 15, "wide"), [], "at its limit");
      await store.jobs.complete(
        first.slice(0, 3).map((j) => ({ id: j.id, leaseToken: j.leaseToken, result: null })),
      );
      assert.equal((await claim(store, 15, "wide")).length, 3, "three slots freed: three more");

      await store.jobs.insert(
        Array.from({ length: 30 }, () =>
          newJob({ queue: "open", concurrencyKey: "any", concurrencyLimit: null }),
        ),
      );
      assert.equal((await claim(store, 12, "open")).length, 12);
      assert.equal((await claim(store, 12, "open")).length, 12, "no limit: 12 running do not hold it back");
      assert.equal((await claim(store, 12, "open")).length, 6, "the rest");
    });

    it("never exceeds a key's limit under concurrent claims from several store instances", async () => {
      const { store, openAnother } = h();
      const other = await openAnother();
      const jobs = [];
      for (let k = 0; k < 8; k++)
        for (let n = 0; n < 6; n++)
          jobs.push(newJob({ queue: "race", concurrencyKey: `k${k}`, concurrencyLimit: 2 }));
      await store.jobs.insert(jobs);
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) => claim(i % 2 === 0 ? store : other, 3, "race")),
      );
      const perKey = new Map<string, number>();
      for (const job of claims.flat())
        perKey.set(job.concurrencyKey!, (perKey.get(job.concurrencyKey!) ?? 0) + 1);
      assert.equal(perKey.size, 8, "every key was served");
      for (const [key, n] of perKey) assert.equal(n, 2, `key ${key}: ${n} claimed, limit 2`);
      const running = await store.jobs.list({ queue: "race", state: "running", limit: 1000 });
      assert.equal(running.length, 16);
    });

    it("leaves keyed jobs of a paused queue alone", async () => {
      const { store } = h();
      await insertOne(store, { queue: "keyed", concurrencyKey: "a", concurrencyLimit: 2 });
      await store.jobs.pauseQueue("keyed");
      assert.deepEqual(await claim(store, 10), []);
      await store.jobs.resumeQueue("keyed");
      assert.equal((await claim(store, 10)).length, 1);
    });

    it("goes on from the key the previous claim reached: every key served before any again", async () => {
      const { store } = h();
      const t = Date.now() - 10_000;
      // Each key's jobs enqueued before the next key's: by age alone, a's second job comes before b's first.
      const jobs = [];
      for (const [i, key] of ["a", "b", "c", "d"].entries())
        for (let n = 0; n < 2; n++)
          jobs.push(
            newJob({
              queue: "turns",
              runAt: new Date(t + i * 10 + n),
              concurrencyKey: key,
              concurrencyLimit: 1,
            }),
          );
      await store.jobs.insert(jobs);
      const keysOf = async (): Promise<string[]> => {
        const claimed = await claim(store, 2, "turns");
        await store.jobs.complete(claimed.map((j) => ({ id: j.id, leaseToken: j.leaseToken, result: null })));
        return claimed.map((j) => j.concurrencyKey!);
      };
      assert.deepEqual(await keysOf(), ["a", "b"]);
      assert.deepEqual(await keysOf(), ["c", "d"], "the next claim starts after the keys served");
      assert.deepEqual(await keysOf(), ["a", "b"], "then wraps around to the first keys");
      assert.deepEqual(await keysOf(), ["c", "d"]);
      assert.deepEqual(await keysOf(), []);
    });

    it("finds keys with free slots behind many keys at their limit", async () => {
      const { store, openAnother } = h();
      const key = (i: number): string => `k${String(i).padStart(3, "0")}`;
      await store.jobs.insert(
        Array.from({ length: 300 }, (_, i) =>
          newJob({ queue: "crowd", concurrencyKey: key(i), concurrencyLimit: 1 }),
        ),
      );
      assert.equal((await claim(store, 280, "crowd")).length, 280, "280 keys now at their limit");
      await store.jobs.insert(
        Array.from({ length: 300 }, (_, i) =>
          newJob({ queue: "crowd", concurrencyKey: key(i), concurrencyLimit: 1 }),
        ),
      );
      // A store instance of its own starts its walk at the first key: 280 keys at their limit before
      // the 20 with a free slot, more than one claim of 5 walks at once.
      const other = await openAnother();
      const seen = new Set<string>();
      for (let round = 0; round < 4; round++) {
        const claimed = await claim(other, 5, "crowd");
        assert.equal(claimed.length, 5, `claim ${round + 1}: keys with free slots exist`);
        for (const j of claimed) {
          assert.ok(j.concurrencyKey! >= key(280), `${j.concurrencyKey} was at its limit`);
          seen.add(j.concurrencyKey!);
        }
      }
      assert.equal(seen.size, 20, "every free key served once");
      assert.deepEqual(await claim(other, 5, "crowd"), [], "every key at its limit");
    });

    it("finds jobs without a key behind many pending keyed jobs at their limit", async () => {
      const { store } = h();
      const t = Date.now() - 10_000;
      // 400 jobs of one key of limit 1, older than the jobs without a key: more than one claim's
      // search for jobs without a key reads at once.
      await store.jobs.insert(
        Array.from({ length: 400 }, (_, i) =>
          newJob({ queue: "mixed", runAt: new Date(t + i), concurrencyKey: "big", concurrencyLimit: 1 }),
        ),
      );
      const plain = await store.jobs.insert(
        Array.from({ length: 3 }, (_, i) => newJob({ queue: "mixed", runAt: new Date(t + 1_000 + i) })),
      );
      // The first claim takes the key's one slot; the jobs without a key come with it or, at the
      // latest, with the next claim (the key at its limit: the search goes on to them).
      const claimed = [...(await claim(store, 2, "mixed")), ...(await claim(store, 5, "mixed"))];
      assert.equal(claimed.filter((j) => j.concurrencyKey === "big").length, 1, "the key's limit holds");
      assert.deepEqual(
        claimed
          .filter((j) => j.concurrencyKey === undefined || j.concurrencyKey === null)
          .map((j) => j.id)
          .sort(),
        plain.map((r) => r.id).sort(),
        "every job without a key claimed",
      );
      assert.deepEqual(await claim(store, 5, "mixed"), []);
    });
  });
}
