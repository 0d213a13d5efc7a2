import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RescuedJob } from "../../../src/store/index.ts";
import type { FreshStore } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { claimOne, insertOne, jobError } from "./helpers.ts";

const STALE = "0000000000000000-stale-token";

/** complete/fail/heartbeat/release/markCancelled, all fenced by lease token; rescue of lapsed leases. */
export function describeLeases(h: () => FreshStore): void {
  describe("complete", () => {
    it("completes held jobs with their results and ignores stale tokens", async () => {
      const { store } = h();
      const a = await insertOne(store);
      const b = await insertOne(store);
      const la = await claimOne(store);
      const lb = await claimOne(store);
      assert.deepEqual([la.id, lb.id], [a, b]);
      const done = await store.jobs.complete([
        { ...la, result: JSON.stringify({ ok: 1 }) },
        { id: lb.id, leaseToken: STALE, result: null },
      ]);
      assert.deepEqual(done, [a]);
      const rowA = await store.jobs.get(a);
      assert.equal(rowA?.state, "completed");
      assert.deepEqual(rowA?.result, { ok: 1 });
      assert.ok(rowA?.finishedAt instanceof Date);
      const rowB = await store.jobs.get(b);
      assert.equal(rowB?.state, "running", "a stale token changes nothing");
      assert.equal(rowB?.result, null);
      // Completing twice is a no-op the second time.
      assert.deepEqual(await store.jobs.complete([{ ...la, result: null }]), []);
      assert.deepEqual((await store.jobs.get(a))?.result, { ok: 1 });
      assert.deepEqual(await store.jobs.complete([]), []);
    });
  });

  describe("fail", () => {
    it("records the error and makes the job retryable at retryAt, claimable again then", async () => {
      const { store } = h();
      const id = await insertOne(store);
      const lease = await claimOne(store);
      const retryAt = new Date(Date.now() + 100);
      assert.deepEqual(await store.jobs.fail([{ ...lease, error: jobError(1, "first"), retryAt }]), [id]);
      const row = await store.jobs.get(id);
      assert.equal(row?.state, "retryable");
      assert.equal(row?.runAt.getTime(), retryAt.getTime());
      assert.equal(row?.errors.length, 1);
      assert.equal(row?.errors[0]?.message, "first");
      assert.equal(row?.errors[0]?.attempt, 1);
      assert.match(row?.errors[0]?.stack ?? "", /Error: first/);
      assert.equal(row?.leaseToken, null);
      const again = await waitFor(
        async () =>
          (await store.jobs.claim({ queue: "default", limit: 1, workerId: "w", leaseMs: 10_000 }))[0],
        { message: "the retryable job to become claimable at retryAt" },
      );
      assert.equal(again.id, id);
      assert.equal(again.attempt, 2);
      assert.notEqual(again.leaseToken, lease.leaseToken);
      // The old attempt's token cannot touch the new attempt.
      assert.deepEqual(await store.jobs.fail([{ ...lease, error: jobError(1), retryAt: null }]), []);
      assert.deepEqual(await store.jobs.fail([{ ...again, error: jobError(2, "second"), retryAt: null }]), [
        id,
      ]);
      const final = await store.jobs.get(id);
      assert.equal(final?.state, "discarded");
      assert.ok(final?.finishedAt instanceof Date);
      assert.deepEqual(
        final?.errors.map((e) => [e.attempt, e.message]),
        [
          [1, "first"],
          [2, "second"],
        ],
      );
    });

    it("makes a failed job whose cancel was requested cancelled, not retryable, its error kept", async () => {
      const { store } = h();
      const id = await insertOne(store);
      const lease = await claimOne(store);
      // The cancel is requested while the job runs; its handler then fails before it hears of it.
      await store.jobs.cancel(id);
      const retryAt = new Date(Date.now() - 1);
      assert.deepEqual(await store.jobs.fail([{ ...lease, error: jobError(1, "boom"), retryAt }]), [id]);
      const row = await store.jobs.get(id);
      assert.equal(row?.state, "cancelled");
      assert.ok(row?.finishedAt instanceof Date, "a cancelled job is finished");
      assert.deepEqual(
        row?.errors.map((e) => e.message),
        ["boom"],
      );
      assert.deepEqual(
        await store.jobs.claim({ queue: "default", limit: 10, workerId: "w", leaseMs: 10_000 }),
        [],
        "a cancelled job is not claimed again",
      );
    });

    it("keeps a code given with the error", async () => {
      const { store } = h();
      const id = await insertOne(store);
      const lease = await claimOne(store);
      await store.jobs.fail([
        { ...lease, error: { ...jobError(1), code: "TEND_E_SOMETHING" }, retryAt: null },
      ]);
      assert.equal((await store.jobs.get(id))?.errors[0]?.code, "TEND_E_SOMETHING");
    });
  });

  describe("heartbeat", () => {
    it("extends held leases and reports lost ones and cancel requests", async () => {
      const { store } = h();
      const a = await insertOne(store);
      const b = await insertOne(store);
      const la = await claimOne(store, { leaseMs: 1_000 });
      const lb = await claimOne(store, { leaseMs: 1_000 });
      const before = (await store.jobs.get(a))?.leaseExpiresAt?.getTime() ?? 0;
      await store.jobs.cancel(b);
      const results = await store.jobs.heartbeat([la, lb, { id: a, leaseToken: STALE }], 120_000);
      assert.deepEqual(results, [
        { id: a, held: true, cancelRequested: false },
        { id: b, held: true, cancelRequested: true },
        { id: a, held: false, cancelRequested: false },
      ]);
      const after = (await store.jobs.get(a))?.leaseExpiresAt?.getTime() ?? 0;
      assert.ok(after > before + 60_000, "lease extended to about now + 120 s");
      await store.jobs.complete([{ ...la, result: null }]);
      assert.deepEqual(await store.jobs.heartbeat([la], 1_000), [
        { id: a, held: false, cancelRequested: false },
      ]);
    });
  });

  describe("release", () => {
    it("returns held jobs to available without spending the attempt; stale tokens are ignored", async () => {
      const { store } = h();
      const id = await insertOne(store);
      const lease = await claimOne(store);
      assert.deepEqual(await store.jobs.release([{ id, leaseToken: STALE }]), []);
      assert.equal((await store.jobs.get(id))?.state, "running");
      assert.deepEqual(await store.jobs.release([lease]), [id]);
      const row = await store.jobs.get(id);
      assert.equal(row?.state, "available");
      assert.equal(row?.attempt, 0);
      assert.equal(row?.leaseToken, null);
      assert.equal(row?.leaseExpiresAt, null);
      assert.equal(row?.workerId, null);
      const again = await claimOne(store);
      assert.equal(again.id, id);
      assert.equal(again.attempt, 1);
    });
  });

  describe("markCancelled", () => {
    it("marks held jobs cancelled, fenced by token", async () => {
      const { store } = h();
      const id = await insertOne(store);
      const lease = await claimOne(store);
      await store.jobs.cancel(id);
      assert.deepEqual(await store.jobs.markCancelled([{ id, leaseToken: STALE }], "stop"), []);
      assert.deepEqual(await store.jobs.markCancelled([lease], "cancel requested"), [id]);
      const row = await store.jobs.get(id);
      assert.equal(row?.state, "cancelled");
      assert.ok(row?.finishedAt instanceof Date);
      assert.deepEqual(
        row?.errors.map((e) => [e.attempt, e.message, e.code]),
        [[1, "cancel requested", "TEND_E_JOB_CANCELLED"]],
      );
      assert.deepEqual(await store.jobs.complete([{ ...lease, result: null }]), []);
    });
  });

  describe("markStarted", () => {
    it("marks held jobs claimed ahead as started, fenced by each job's whole lease token", async () => {
      const { store } = h();
      const x = await insertOne(store, { queue: "m" });
      const y = await insertOne(store, { queue: "m" });
      const claim = (limit: number) =>
        store.jobs.claim({ queue: "m", limit, workerId: "w", leaseMs: 60_000, start: 0 });
      // X claimed ahead, then given back: its first lease token is stale.
      const [stale] = await claim(1);
      assert.equal(stale?.id, x);
      assert.equal(stale?.started, false);
      await store.jobs.release([{ id: x, leaseToken: stale!.leaseToken }]);
      const now = await claim(10);
      assert.deepEqual(
        now.map((j) => j.id),
        [x, y],
      );
      const current = new Map(now.map((j) => [j.id, j.leaseToken]));
      // The stale ref of X beside the current ref of Y (a claim token this call also names).
      assert.deepEqual(
        await store.jobs.markStarted([
          { id: x, leaseToken: stale!.leaseToken },
          { id: y, leaseToken: current.get(y)! },
        ]),
        [y],
      );
      assert.equal((await store.jobs.get(x))?.startedAt, null, "the stale ref did not mark X");
      assert.ok((await store.jobs.get(y))?.startedAt instanceof Date);
      assert.deepEqual(await store.jobs.markStarted([{ id: x, leaseToken: current.get(x)! }]), [x]);
      assert.ok((await store.jobs.get(x))?.startedAt instanceof Date);
    });
  });

  describe("rescueExpired", () => {
    it("makes lapsed running jobs retryable (or discarded when out of attempts) with TEND_E_LEASE_EXPIRED", async () => {
      const { store } = h();
      const retry = await insertOne(store, { queue: "r", maxAttempts: 2, kind: "k.retry" });
      const last = await insertOne(store, { queue: "r", maxAttempts: 1, kind: "k.last" });
      const healthy = await insertOne(store, { queue: "r" });
      const l1 = await claimOne(store, { queue: "r", leaseMs: 1 });
      const l2 = await claimOne(store, { queue: "r", leaseMs: 1 });
      await claimOne(store, { queue: "r", leaseMs: 600_000 });
      assert.deepEqual([l1.id, l2.id], [retry, last]);
      const rescued: RescuedJob[] = [];
      await waitFor(
        async () => {
          rescued.push(...(await store.jobs.rescueExpired()));
          return rescued.length >= 2;
        },
        { message: "both 1 ms leases to be rescued" },
      );
      rescued.sort((x, y) => x.kind.localeCompare(y.kind));
      assert.deepEqual(rescued, [
        { id: last, kind: "k.last", queue: "r", attempt: 1, state: "discarded", poisoned: false },
        { id: retry, kind: "k.retry", queue: "r", attempt: 1, state: "retryable", poisoned: false },
      ]);
      const row = await store.jobs.get(retry);
      assert.equal(row?.state, "retryable");
      assert.equal(row?.leaseToken, null);
      assert.equal(row?.errors.length, 1);
      assert.equal(row?.errors[0]?.code, "TEND_E_LEASE_EXPIRED");
      assert.equal(row?.errors[0]?.attempt, 1);
      assert.ok(row && row.runAt.getTime() <= Date.now() + 1_000, "retryable now");
      assert.equal((await store.jobs.get(last))?.state, "discarded");
      assert.equal((await store.jobs.get(healthy))?.state, "running", "an unexpired lease is left alone");
      assert.deepEqual(
        await store.jobs.complete([{ ...l1, result: null }]),
        [],
        "the lapsed token is fenced out",
      );
      const again = await claimOne(store, { queue: "r" });
      assert.equal(again.id, retry);
      assert.equal(again.attempt, 2);
      assert.deepEqual(await store.jobs.rescueExpired(), []);
    });
  });

  describe("poison jobs", () => {
    it("discards a job with TEND_E_JOB_POISONED once its worker was lost or hung maxLost times, lease expiries included", async () => {
      const { store } = h();
      const id = await insertOne(store, { queue: "p", kind: "k.poison", maxAttempts: 10, maxLost: 3 });
      const bystander = await insertOne(store, { queue: "p2", kind: "k.ok", maxAttempts: 10 });
      assert.equal((await store.jobs.get(id))?.maxLost, 3);
      assert.equal((await store.jobs.get(bystander))?.maxLost, 3, "3 by default");
      // A handler's own failure is not a lost worker.
      const l0 = await claimOne(store, { queue: "p", workerId: "w0" });
      assert.equal(l0.id, id);
      await store.jobs.fail([{ ...l0, error: jobError(1), retryAt: new Date(Date.now() - 1) }]);
      assert.equal((await store.jobs.get(id))?.lost, 0);
      for (const [n, workerId] of [
        [1, "w1"],
        [2, "w2"],
      ] as const) {
        const lease = await claimOne(store, { queue: "p", workerId });
        assert.equal(lease.id, id);
        const rescued = await store.jobs.rescueWorker(workerId, "worker hung: no heartbeat");
        assert.deepEqual(rescued, [
          { id, kind: "k.poison", queue: "p", attempt: n + 1, state: "retryable", poisoned: false },
        ]);
        assert.equal((await store.jobs.get(id))?.lost, n);
      }
      // The third loss is a lapsed lease.
      await claimOne(store, { queue: "p", workerId: "w3", leaseMs: 1 });
      const rescued: RescuedJob[] = [];
      await waitFor(
        async () => {
          rescued.push(...(await store.jobs.rescueExpired()));
          return rescued.length > 0;
        },
        { message: "the 1 ms lease to be rescued" },
      );
      assert.deepEqual(rescued, [
        { id, kind: "k.poison", queue: "p", attempt: 4, state: "discarded", poisoned: true },
      ]);
      const row = await store.jobs.get(id);
      assert.equal(row?.state, "discarded");
      assert.equal(row?.lost, 3);
      assert.ok(row?.finishedAt instanceof Date);
      assert.deepEqual(
        row?.errors.map((e) => e.code ?? null),
        [null, "TEND_E_WORKER_LOST", "TEND_E_WORKER_LOST", "TEND_E_JOB_POISONED"],
      );
      assert.match(row?.errors[3]?.message ?? "", /died or hung 3 times/);
      assert.match(row?.errors[3]?.message ?? "", /lease expired/);
      assert.equal((await store.jobs.get(bystander))?.state, "available", "other jobs are left alone");
      // A retry gives the job a clean slate.
      const again = await store.jobs.retry(id);
      assert.equal(again?.state, "available");
      assert.equal(again?.lost, 0);
      assert.equal(again?.maxLost, 3);
    });

    it("honours a per-job maxLost of 1 on a worker rescue", async () => {
      const { store } = h();
      const id = await insertOne(store, { kind: "k.once", maxLost: 1 });
      await claimOne(store, { workerId: "dead" });
      const rescued = await store.jobs.rescueWorker("dead", "worker exited with signal SIGKILL");
      assert.deepEqual(rescued, [
        { id, kind: "k.once", queue: "default", attempt: 1, state: "discarded", poisoned: true },
      ]);
      const row = await store.jobs.get(id);
      assert.equal(row?.workerId, "dead", "an ended job keeps the worker of its last attempt");
      assert.equal(row?.errors.at(-1)?.code, "TEND_E_JOB_POISONED");
      assert.match(row?.errors.at(-1)?.message ?? "", /died or hung 1 time /);
      assert.match(row?.errors.at(-1)?.message ?? "", /SIGKILL/);
    });
  });

  describe("rescueWorker", () => {
    it("rescues every running job of one worker regardless of lease, recording the reason", async () => {
      const { store } = h();
      const a = await insertOne(store, { kind: "k.a" });
      const b = await insertOne(store, { kind: "k.b" });
      const c = await insertOne(store, { kind: "k.c" });
      await claimOne(store, { workerId: "dead" });
      await claimOne(store, { workerId: "alive" });
      await claimOne(store, { workerId: "dead" });
      const rescued = await store.jobs.rescueWorker("dead", "worker process exited");
      assert.deepEqual(rescued.map((r) => r.id).sort(), [a, c].sort());
      assert.ok(rescued.every((r) => r.state === "retryable" && r.attempt === 1));
      const row = await store.jobs.get(a);
      assert.equal(row?.state, "retryable");
      assert.equal(row?.workerId, null, "a job that will run again belongs to no worker");
      assert.match(row?.errors[0]?.message ?? "", /worker process exited/);
      assert.equal(row?.errors[0]?.code, "TEND_E_WORKER_LOST");
      assert.equal((await store.jobs.get(b))?.state, "running");
      assert.deepEqual(await store.jobs.rescueWorker("nobody", "x"), []);
    });
  });
}
