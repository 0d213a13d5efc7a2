import assert from "node:assert/strict";
import { it } from "node:test";
import { JobSnooze } from "../../../src/jobs/index.ts";
import type { Store } from "../../../src/store/index.ts";
import type { Backend } from "../../support/backends.ts";
import { makeJobs, startJobs, uniqueQueue, waitForState } from "./helpers.ts";

export function snooze(ctx: () => { backend: Backend; store: Store }): void {
  it("a handler that returns ctx.snooze() waits until then without spending its attempt", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    jobs.define("poll", (c) => c.snooze("1h"), { queue, maxAttempts: 1 });
    const worker = await startJobs(jobs);
    try {
      const before = Date.now();
      const { id } = await jobs.enqueue("poll");
      const job = await waitForState(jobs, id, "scheduled");
      assert.equal(job.attempt, 0, "the attempt was not spent");
      assert.deepEqual(job.errors, []);
      assert.ok(job.runAt.getTime() >= before + 3_600_000 - 1_000, `runAt ${job.runAt.toISOString()}`);
      assert.equal(job.leaseToken, null);
      assert.equal(job.workerId, null);
      assert.equal(job.startedAt, null);
    } finally {
      await worker.stop();
    }
  });

  it("snoozes (returned or thrown) run the job again later, and its one attempt completes it", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const attempts: number[] = [];
    jobs.define(
      "wait.ready",
      (c) => {
        attempts.push(c.attempt);
        if (attempts.length === 1) return c.snooze(50);
        if (attempts.length === 2) throw c.snooze("50ms");
        return { ready: true };
      },
      { queue, maxAttempts: 1 },
    );
    const worker = await startJobs(jobs);
    try {
      const { id } = await jobs.enqueue("wait.ready");
      const job = await waitForState(jobs, id, "completed");
      assert.deepEqual(attempts, [1, 1, 1], "every run was attempt 1 of 1");
      assert.equal(job.attempt, 1);
      assert.deepEqual(job.errors, []);
      assert.deepEqual(job.result, { ready: true });
    } finally {
      await worker.stop();
    }
  });

  it("a bad snooze duration fails that attempt with TEND_E_INVALID_SNOOZE", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    jobs.define("bad.snooze", (c) => c.snooze(-5), { queue, maxAttempts: 1 });
    // A JobSnooze made directly, from a payload's bad value (NaN): refused as it is made, not by the
    // store's write (which left the job running until its lease lapsed, with no reason recorded).
    jobs.define(
      "bad.snooze.direct",
      (c) => new JobSnooze(Number((c.payload as { after: string }).after) * 1000),
      {
        queue,
        maxAttempts: 1,
      },
    );
    const worker = await startJobs(jobs);
    try {
      const { id } = await jobs.enqueue("bad.snooze");
      const job = await waitForState(jobs, id, "discarded");
      assert.equal(job.errors[0]?.code, "TEND_E_INVALID_SNOOZE");
      assert.match(job.errors[0]!.message, /snooze/);
      const direct = await jobs.enqueue("bad.snooze.direct", { after: "soon" });
      const failed = await waitForState(jobs, direct.id, "discarded");
      assert.equal(failed.errors[0]?.code, "TEND_E_INVALID_SNOOZE");
    } finally {
      await worker.stop();
    }
  });

  it("the store's snooze is fenced by the lease and cancels a job whose cancel was requested", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const a = await jobs.enqueue("s.store", { n: 1 }, { queue });
    const b = await jobs.enqueue("s.store", { n: 2 }, { queue });
    const claimed = await store.jobs.claim({ queue, limit: 2, workerId: "w", leaseMs: 30_000 });
    assert.equal(claimed.length, 2);
    const [ja, jb] = [claimed.find((j) => j.id === a.id)!, claimed.find((j) => j.id === b.id)!];
    const later = new Date(Date.now() + 60_000);
    assert.deepEqual(await store.jobs.snooze([{ id: a.id, leaseToken: "stale", runAt: later }]), []);
    await jobs.cancel(b.id);
    assert.deepEqual(
      await store.jobs.snooze([
        { id: a.id, leaseToken: ja.leaseToken, runAt: later },
        { id: b.id, leaseToken: jb.leaseToken, runAt: later },
      ]),
      [a.id, b.id],
    );
    const [ra, rb] = [await jobs.get(a.id), await jobs.get(b.id)];
    assert.equal(ra?.state, "scheduled");
    assert.equal(ra?.attempt, 0);
    assert.equal(ra?.runAt.getTime(), later.getTime());
    assert.equal(rb?.state, "cancelled");
    // Due at once: available again, and claimable.
    const c = await jobs.enqueue("s.store", { n: 3 }, { queue });
    const [jc] = await store.jobs.claim({ queue, limit: 1, workerId: "w", leaseMs: 30_000 });
    assert.equal(jc?.id, c.id);
    await store.jobs.snooze([{ id: c.id, leaseToken: jc.leaseToken, runAt: new Date(Date.now() - 1) }]);
    assert.equal((await jobs.get(c.id))?.state, "available");
    const [again] = await store.jobs.claim({ queue, limit: 1, workerId: "w", leaseMs: 30_000 });
    assert.equal(again?.id, c.id);
    assert.equal(again.attempt, 1);
  });
}
