import assert from "node:assert/strict";
import { it } from "node:test";
import type { Store } from "../../../src/store/index.ts";
import type { Backend } from "../../support/backends.ts";
import { makeJobs, startJobs, uniqueQueue, waitForState } from "./helpers.ts";

const HOUR = 3_600_000;

export function uniqueModes(ctx: () => { backend: Backend; store: Store }): void {
  it("debounce replaces a pending holder's payload and pushes its run out; throttle keeps its run time", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const key = `d-${queue}`;
    const first = await jobs.enqueue("dj", { n: 1 }, { queue, uniqueKey: key, delay: HOUR });
    assert.equal(first.outcome, "inserted");
    const t0 = Date.now();
    const debounced = await jobs.enqueue(
      "dj",
      { n: 2 },
      { queue, uniqueKey: key, uniqueMode: "debounce", delay: 2 * HOUR },
    );
    assert.deepEqual(debounced, { id: first.id, inserted: false, outcome: "replaced" });
    let job = (await jobs.get(first.id))!;
    assert.deepEqual(job.payload, { n: 2 });
    assert.ok(Math.abs(job.runAt.getTime() - (t0 + 2 * HOUR)) < 5_000, "run pushed out to the new delay");
    assert.equal(job.state, "scheduled");
    const runAt = job.runAt.getTime();

    const throttled = await jobs.enqueue("dj", { n: 3 }, { queue, uniqueKey: key, uniqueMode: "throttle" });
    assert.deepEqual(throttled, { id: first.id, inserted: false, outcome: "replaced" });
    job = (await jobs.get(first.id))!;
    assert.deepEqual(job.payload, { n: 3 });
    assert.equal(job.runAt.getTime(), runAt, "throttle keeps the run time");

    const kept = await jobs.enqueue("dj", { n: 4 }, { queue, uniqueKey: key, uniqueMode: "keep" });
    assert.deepEqual(kept, { id: first.id, inserted: false, outcome: "kept" });
    assert.deepEqual((await jobs.get(first.id))!.payload, { n: 3 });
    assert.equal((await jobs.list({ queue })).length, 1);
  });

  it("keeps a running holder, and a debounce due now runs the job with the latest payload", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const key = `r-${queue}`;
    const { id } = await jobs.enqueue("rj", { n: 1 }, { queue, uniqueKey: key });
    const [claimed] = await store.jobs.claim({ queue, limit: 1, workerId: "w", leaseMs: 30_000 });
    assert.equal(claimed?.id, id);
    for (const uniqueMode of ["debounce", "throttle"] as const) {
      const r = await jobs.enqueue("rj", { n: 2 }, { queue, uniqueKey: key, uniqueMode });
      assert.deepEqual(r, { id, inserted: false, outcome: "kept" });
    }
    assert.deepEqual((await jobs.get(id))!.payload, { n: 1 });
    await store.jobs.complete([{ id, leaseToken: claimed.leaseToken, result: null }]);

    const ran: unknown[] = [];
    jobs.define("rj", ({ payload }) => void ran.push(payload), { queue });
    const worker = await startJobs(jobs);
    try {
      const later = await jobs.enqueue("rj", { n: 3 }, { queue, uniqueKey: key, delay: HOUR });
      assert.equal(later.outcome, "inserted");
      const now = await jobs.enqueue("rj", { n: 4 }, { queue, uniqueKey: key, uniqueMode: "debounce" });
      assert.deepEqual(now, { id: later.id, inserted: false, outcome: "replaced" });
      await waitForState(jobs, later.id, "completed");
      assert.deepEqual(ran, [{ n: 4 }]);
    } finally {
      await worker.stop();
    }
  });

  it("acts on one key several times in one enqueueMany call in input order, beside other jobs", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const key = `m-${queue}`;
    const results = await jobs.enqueueMany([
      { kind: "mj", queue, payload: { plain: 1 } },
      { kind: "mj", queue, payload: { n: 1 }, uniqueKey: key, uniqueMode: "debounce", delay: HOUR },
      { kind: "mj", queue, payload: { n: 2 }, uniqueKey: key, uniqueMode: "debounce", delay: HOUR },
      { kind: "mj", queue, payload: { other: 1 }, uniqueKey: `${key}-b`, uniqueMode: "throttle" },
      { kind: "mj", queue, payload: { n: 3 }, uniqueKey: key, uniqueMode: "throttle" },
      { kind: "mj", queue, payload: { n: 4 }, uniqueKey: key },
      { kind: "mj", queue, payload: { plain: 2 } },
    ]);
    assert.deepEqual(
      results.map((r) => r.outcome),
      ["inserted", "inserted", "replaced", "inserted", "replaced", "kept", "inserted"],
    );
    const held = results[1]!.id;
    assert.ok([2, 4, 5].every((i) => results[i]!.id === held));
    const job = (await jobs.get(held))!;
    assert.deepEqual(job.payload, { n: 3 });
    assert.equal(job.state, "scheduled");
    assert.equal((await jobs.list({ queue })).length, 4);
  });

  it("replaces inside the caller's transaction only if it commits", async () => {
    const { store, backend } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const key = `t-${queue}`;
    const { id } = await jobs.enqueue("tj", { n: 1 }, { queue, uniqueKey: key, delay: HOUR });
    await backend.inCallerTransaction(async (tx) => {
      const r = await jobs.enqueue("tj", { n: 2 }, { queue, uniqueKey: key, uniqueMode: "throttle", tx });
      assert.deepEqual(r, { id, inserted: false, outcome: "replaced" });
    }, "rollback");
    assert.deepEqual((await jobs.get(id))!.payload, { n: 1 });
    await backend.inCallerTransaction(async (tx) => {
      const r = await jobs.enqueueMany(
        [{ kind: "tj", queue, payload: { n: 3 }, uniqueKey: key, uniqueMode: "debounce", delay: 2 * HOUR }],
        { tx },
      );
      assert.deepEqual(r, [{ id, inserted: false, outcome: "replaced" }]);
    }, "commit");
    const job = (await jobs.get(id))!;
    assert.deepEqual(job.payload, { n: 3 });
    assert.ok(job.runAt.getTime() > Date.now() + HOUR);
  });

  it("two stores debouncing one key at once leave one job, with one insert and the rest replacing it", async () => {
    const { backend } = ctx();
    const fresh = await backend.fresh();
    try {
      const other = await fresh.openAnother();
      const a = makeJobs(fresh.store);
      const b = makeJobs(other);
      const queue = uniqueQueue();
      const key = `c-${queue}`;
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, n) =>
          (n % 2 === 0 ? a : b).enqueue(
            "cj",
            { n },
            { queue, uniqueKey: key, uniqueMode: "debounce", delay: HOUR },
          ),
        ),
      );
      const pending = await a.list({ queue });
      assert.equal(pending.length, 1, "one job holds the key");
      assert.equal(results.filter((r) => r.outcome === "inserted").length, 1);
      assert.equal(results.filter((r) => r.outcome === "replaced").length, 39);
      assert.ok(results.every((r) => r.id === pending[0]!.id));
    } finally {
      await fresh.cleanup();
    }
  });

  it("refuses a unique mode it does not know, or one without a unique key", async () => {
    const jobs = makeJobs(ctx().store);
    await assert.rejects(
      jobs.enqueue("vj", {}, { uniqueKey: "k", uniqueMode: "replace" as never }),
      (err: { code: string; message: string }) =>
        err.code === "TEND_E_INVALID_JOB_OPTIONS" &&
        /uniqueMode/.test(err.message) &&
        /debounce/.test(err.message),
    );
    await assert.rejects(jobs.enqueue("vj", {}, { uniqueMode: "debounce" }), {
      code: "TEND_E_INVALID_JOB_OPTIONS",
    });
    await assert.rejects(jobs.enqueueMany([{ kind: "vj", uniqueMode: "throttle" }]), {
      code: "TEND_E_INVALID_JOB_OPTIONS",
    });
  });
}
