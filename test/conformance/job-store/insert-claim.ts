import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Store } from "../../../src/store/index.ts";
import type { FreshStore } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { claimOne, insertOne, newJob, sortIds } from "./helpers.ts";

/** insert(): defaults, order of results, unique keys; claim(): order, scheduling, exclusivity. */
export function describeInsertAndClaim(h: () => FreshStore): void {
  describe("insert", () => {
    it("stores every field with documented defaults and returns ids in input order", async () => {
      const { store } = h();
      const before = Date.now();
      const runAt = new Date(before - 10);
      const jobs = [
        newJob({ kind: "a.one", queue: "q1", payload: JSON.stringify({ x: 1 }), priority: 5, runAt }),
        newJob({ kind: "a.two", queue: "q2", payload: JSON.stringify([1, "two", null]), maxAttempts: 7 }),
        newJob({ kind: "a.three", payload: JSON.stringify("text"), batchId: "b-1", batchIndex: 4 }),
      ];
      const results = await store.jobs.insert(jobs);
      assert.equal(results.length, 3);
      assert.ok(results.every((r) => r.inserted));
      assert.equal(new Set(results.map((r) => r.id)).size, 3);
      for (const r of results) assert.match(r.id, /^[0-9]+$/);

      const first = await store.jobs.get(results[0]!.id);
      assert.ok(first);
      assert.equal(first.kind, "a.one");
      assert.equal(first.queue, "q1");
      assert.deepEqual(first.payload, { x: 1 });
      assert.equal(first.priority, 5);
      assert.equal(first.state, "available");
      assert.equal(first.runAt.getTime(), runAt.getTime());
      assert.equal(first.attempt, 0);
      assert.equal(first.maxAttempts, 3);
      assert.equal(first.uniqueKey, null);
      assert.deepEqual(first.errors, []);
      assert.equal(first.result, null);
      assert.ok(Math.abs(first.createdAt.getTime() - before) < 5_000, "createdAt is about now");
      assert.equal(first.startedAt, null);
      assert.equal(first.finishedAt, null);
      assert.equal(first.workerId, null);
      assert.equal(first.leaseToken, null);
      assert.equal(first.leaseExpiresAt, null);
      assert.equal(first.cancelRequested, false);
      assert.equal(first.batchId, null);
      assert.equal(first.batchIndex, null);

      const second = await store.jobs.get(results[1]!.id);
      assert.deepEqual(second?.payload, [1, "two", null]);
      assert.equal(second?.maxAttempts, 7);
      assert.equal(second?.queue, "q2");
      const third = await store.jobs.get(results[2]!.id);
      assert.equal(third?.payload, "text");
      assert.equal(third?.batchId, "b-1");
      assert.equal(third?.batchIndex, 4);
    });

    it("makes a job with a future runAt scheduled and one due now available", async () => {
      const { store } = h();
      const later = await insertOne(store, { runAt: new Date(Date.now() + 3_600_000) });
      const now = await insertOne(store, { runAt: new Date() });
      assert.equal((await store.jobs.get(later))?.state, "scheduled");
      assert.equal((await store.jobs.get(now))?.state, "available");
    });

    it("inserts thousands in one call, each result matching its input", async () => {
      const { store } = h();
      const jobs = Array.from({ length: 3000 }, (_, i) => newJob({ payload: JSON.stringify({ i }) }));
      const results = await store.jobs.insert(jobs);
      assert.equal(results.length, 3000);
      assert.equal(new Set(results.map((r) => r.id)).size, 3000);
      for (const i of [0, 1, 1499, 2998, 2999]) {
        const row = await store.jobs.get(results[i]!.id);
        assert.deepEqual(row?.payload, { i });
      }
    });

    it("returns an empty array for an empty insert", async () => {
      assert.deepEqual(await h().store.jobs.insert([]), []);
    });

    it("deduplicates by unique key while a job with the key is pending or running", async () => {
      const { store } = h();
      const [first] = await store.jobs.insert([newJob({ uniqueKey: "k1" })]);
      assert.equal(first?.inserted, true);
      const [dup] = await store.jobs.insert([newJob({ uniqueKey: "k1", kind: "other" })]);
      assert.deepEqual(dup, { id: first?.id, inserted: false, outcome: "kept" });

      const lease = await claimOne(store);
      assert.equal(lease.id, first?.id);
      const [whileRunning] = await store.jobs.insert([newJob({ uniqueKey: "k1" })]);
      assert.deepEqual(whileRunning, { id: first?.id, inserted: false, outcome: "kept" });

      assert.deepEqual(await store.jobs.complete([{ ...lease, result: null }]), [lease.id]);
      const [afterDone] = await store.jobs.insert([newJob({ uniqueKey: "k1" })]);
      assert.equal(afterDone?.inserted, true);
      assert.notEqual(afterDone?.id, first?.id);
    });

    it("keeps a scheduled or retryable job's key blocking, and releases it once discarded or cancelled", async () => {
      const { store } = h();
      const scheduled = await insertOne(store, { uniqueKey: "s", runAt: new Date(Date.now() + 3_600_000) });
      assert.deepEqual((await store.jobs.insert([newJob({ uniqueKey: "s" })]))[0], {
        id: scheduled,
        inserted: false,
        outcome: "kept",
      });
      await store.jobs.cancel(scheduled);
      assert.equal((await store.jobs.insert([newJob({ uniqueKey: "s" })]))[0]?.inserted, true);

      const failing = await insertOne(store, { uniqueKey: "r", queue: "r" });
      const lease = await claimOne(store, { queue: "r" });
      const retryAt = new Date(Date.now() + 3_600_000);
      await store.jobs.fail([
        { ...lease, error: { attempt: 1, at: new Date().toISOString(), message: "x" }, retryAt },
      ]);
      assert.deepEqual((await store.jobs.insert([newJob({ uniqueKey: "r" })]))[0], {
        id: failing,
        inserted: false,
        outcome: "kept",
      });
      await store.jobs.cancel(failing);
      assert.equal((await store.jobs.insert([newJob({ uniqueKey: "r" })]))[0]?.inserted, true);
    });

    it("reports later duplicates inside one call as not inserted with the first one's id", async () => {
      const { store } = h();
      const results = await store.jobs.insert([
        newJob({ uniqueKey: "d" }),
        newJob({ uniqueKey: null }),
        newJob({ uniqueKey: "d" }),
        newJob({ uniqueKey: "e" }),
        newJob({ uniqueKey: "d" }),
      ]);
      assert.equal(results.length, 5);
      assert.deepEqual(
        results.map((r) => r.inserted),
        [true, true, false, true, false],
      );
      assert.equal(results[2]?.id, results[0]?.id);
      assert.equal(results[4]?.id, results[0]?.id);
      assert.notEqual(results[3]?.id, results[0]?.id);
      assert.equal((await store.jobs.list({ limit: 100 })).length, 3);
    });
  });

  describe("claim", () => {
    it("claims by priority, then runAt, then id, marking jobs running with a fresh lease", async () => {
      const { store } = h();
      const t = Date.now();
      const ids = (
        await store.jobs.insert([
          newJob({ priority: 1, runAt: new Date(t - 3000) }), // 0
          newJob({ priority: 0, runAt: new Date(t - 1000) }), // 1
          newJob({ priority: 0, runAt: new Date(t - 2000) }), // 2
          newJob({ priority: -5, runAt: new Date(t - 500) }), // 3
          newJob({ priority: 0, runAt: new Date(t - 1000) }), // 4 (same runAt as 1, higher id)
        ])
      ).map((r) => r.id);
      const before = Date.now();
      const claimed = await store.jobs.claim({ queue: "default", limit: 3, workerId: "w1", leaseMs: 30_000 });
      assert.deepEqual(
        claimed.map((c) => c.id),
        [ids[3], ids[2], ids[1]],
      );
      const rest = await store.jobs.claim({ queue: "default", limit: 10, workerId: "w1", leaseMs: 30_000 });
      assert.deepEqual(
        rest.map((c) => c.id),
        [ids[4], ids[0]],
      );
      // Each claimed job carries its run time to the millisecond.
      assert.deepEqual(
        [...claimed, ...rest].map((x) => x.runAt.getTime()),
        [t - 500, t - 2000, t - 1000, t - 1000, t - 3000],
      );
      const c = claimed[0]!;
      assert.equal(c.attempt, 1);
      assert.equal(c.kind, "test.kind");
      assert.equal(c.queue, "default");
      assert.equal(c.maxAttempts, 3);
      assert.equal(typeof c.leaseToken, "string");
      assert.ok(c.leaseToken.length >= 16, "lease token is long and random");
      assert.equal(new Set([...claimed, ...rest].map((x) => x.leaseToken)).size, 5);
      const row = await store.jobs.get(c.id);
      assert.equal(row?.runAt.getTime(), t - 500);
      assert.equal(row?.state, "running");
      assert.equal(row?.attempt, 1);
      assert.equal(row?.workerId, "w1");
      assert.equal(row?.leaseToken, c.leaseToken);
      assert.ok(row?.startedAt && Math.abs(row.startedAt.getTime() - before) < 5_000);
      const expires = row?.leaseExpiresAt?.getTime() ?? 0;
      assert.ok(Math.abs(expires - (before + 30_000)) < 5_000, "lease expires about now + leaseMs");
      assert.deepEqual(
        await store.jobs.claim({ queue: "default", limit: 10, workerId: "w1", leaseMs: 1000 }),
        [],
      );
    });

    it("returns jobs of one priority and run time in id order, also across ids of more digits", async () => {
      const { store } = h();
      const runAt = new Date(Date.now() - 1000);
      // A fresh store numbers its jobs from 1: these twelve run from one digit to two.
      const ids = (await store.jobs.insert(Array.from({ length: 12 }, () => newJob({ runAt })))).map(
        (r) => r.id,
      );
      const claimed = await store.jobs.claim({
        queue: "default",
        limit: 12,
        workerId: "w1",
        leaseMs: 30_000,
      });
      const numeric = [...ids].sort((a, b) => Number(a) - Number(b));
      assert.deepEqual(
        claimed.map((c) => c.id),
        numeric,
        "claim order is numeric by id, not by the id's text",
      );
    });

    it("claims only from the requested queue and returns parsed payloads", async () => {
      const { store } = h();
      await insertOne(store, { queue: "other", payload: JSON.stringify({ other: true }) });
      const mine = await insertOne(store, { queue: "mine", payload: JSON.stringify({ a: [1, 2] }) });
      const claimed = await store.jobs.claim({ queue: "mine", limit: 10, workerId: "w", leaseMs: 10_000 });
      assert.equal(claimed.length, 1);
      assert.equal(claimed[0]?.id, mine);
      assert.deepEqual(claimed[0]?.payload, { a: [1, 2] });
    });

    it("does not claim scheduled jobs before their time, nor cancelled or finished ones", async () => {
      const { store } = h();
      await insertOne(store, { runAt: new Date(Date.now() + 3_600_000) });
      const cancelled = await insertOne(store);
      await store.jobs.cancel(cancelled);
      const due = await insertOne(store, { runAt: new Date(Date.now() + 150) });
      assert.deepEqual(
        await store.jobs.claim({ queue: "default", limit: 10, workerId: "w", leaseMs: 1000 }),
        [],
      );
      // The second job becomes due shortly; wait for that, without a fixed sleep.
      const got = await waitFor(
        async () => {
          const claimed = await store.jobs.claim({
            queue: "default",
            limit: 10,
            workerId: "w",
            leaseMs: 1000,
          });
          return claimed.length > 0 ? claimed : null;
        },
        { timeoutMs: 10_000, message: "the job scheduled 150 ms ahead to become claimable" },
      );
      assert.deepEqual(
        got.map((j) => j.id),
        [due],
      );
    });

    it("never hands the same attempt to two concurrent claimers (several Store instances)", async () => {
      const { store, openAnother } = h();
      const stores: Store[] = [store];
      stores.push(await openAnother(), await openAnother());
      const total = 300;
      await store.jobs.insert(Array.from({ length: total }, () => newJob({ queue: "race" })));
      const seen: string[] = [];
      await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const s = stores[i % stores.length]!;
          for (;;) {
            const got = await s.jobs.claim({ queue: "race", limit: 7, workerId: `w${i}`, leaseMs: 60_000 });
            if (got.length === 0) return;
            for (const j of got) seen.push(`${j.id}:${j.attempt}`);
          }
        }),
      );
      assert.equal(seen.length, total, "every job claimed exactly once");
      assert.equal(new Set(seen).size, total, "no attempt claimed twice");
      const ids = sortIds(seen.map((s) => s.split(":")[0]!));
      assert.equal(new Set(ids).size, total);
    });
  });
}
