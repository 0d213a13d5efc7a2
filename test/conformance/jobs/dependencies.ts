import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { it } from "node:test";
import { TendError } from "../../../src/errors/index.ts";
import type { AfterResult } from "../../../src/jobs/index.ts";
import type { Store } from "../../../src/store/index.ts";
import { MAX_WAITING_CHAIN } from "../../../src/store/dependencies.ts";
import type { Backend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { makeJobs, startJobs, uniqueQueue, waitForState } from "./helpers.ts";

const lease = { workerId: "w-deps", leaseMs: 30_000 };

export function dependencies(ctx: () => { backend: Backend; store: Store }): void {
  it("a job with parents waits, is never claimed, and becomes runnable when its last parent completes", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const a = await jobs.enqueue("dep.parent", { n: 1 }, { queue });
    const b = await jobs.enqueue("dep.parent", { n: 2 }, { queue, priority: 5 });
    const c = await jobs.enqueue("dep.child", null, { queue, after: [a.id, b.id], priority: -10 });
    assert.equal((await jobs.get(c.id))?.state, "waiting");
    const statsOf = async () => (await store.jobs.stats()).find((q) => q.queue === queue);
    assert.deepEqual(
      [(await statsOf())?.waiting, (await statsOf())?.available],
      [1, 2],
      "stats count the waiting job apart from the runnable ones",
    );
    const claimed = await store.jobs.claim({ queue, limit: 10, ...lease });
    assert.deepEqual(
      claimed.map((j) => j.id),
      [a.id, b.id],
      "the waiting job is not claimed, even ahead of them by priority",
    );
    const [ca, cb] = claimed;
    assert.deepEqual(await store.jobs.complete([{ ...ca!, result: JSON.stringify({ from: "a" }) }]), [a.id]);
    assert.equal((await jobs.get(c.id))?.state, "waiting", "one parent of two is not enough");
    assert.deepEqual(await store.jobs.claim({ queue, limit: 10, ...lease }), []);
    await store.jobs.complete([{ ...cb!, result: JSON.stringify({ from: "b" }) }]);
    assert.equal((await jobs.get(c.id))?.state, "available");
    assert.deepEqual([(await statsOf())?.waiting, (await statsOf())?.available], [0, 1]);
    const next = await store.jobs.claim({ queue, limit: 10, ...lease });
    assert.deepEqual(
      next.map((j) => j.id),
      [c.id],
    );
    const deps = await store.jobs.dependencies(c.id);
    assert.deepEqual(
      deps.parents.map((p) => [p.id, p.state, p.result]),
      [
        [a.id, "completed", { from: "a" }],
        [b.id, "completed", { from: "b" }],
      ],
    );
    assert.deepEqual(
      (await store.jobs.dependencies(a.id)).dependents.map((d) => [d.id, d.state]),
      [[c.id, "running"]],
    );
  });

  it("a released dependent keeps its own runAt: a future one becomes scheduled", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const a = await jobs.enqueue("dep.parent", null, { queue });
    const c = await jobs.enqueue("dep.later", null, { queue, after: [a.id], delay: "1h" });
    const [claimed] = await store.jobs.claim({ queue, limit: 1, ...lease });
    await store.jobs.complete([{ ...claimed!, result: null }]);
    assert.equal((await jobs.get(c.id))?.state, "scheduled");
  });

  it("a worker runs a flow leaves first, and each job reads its children's results with ctx.afterResults()", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const order: string[] = [];
    jobs.define(
      "flow.part",
      (c) => {
        order.push(`part ${(c.payload as { n: number }).n}`);
        return { n: (c.payload as { n: number }).n * 10 };
      },
      { queue },
    );
    let seen: AfterResult[] = [];
    jobs.define(
      "flow.merge",
      async (c) => {
        order.push("merge");
        seen = await c.afterResults();
        return seen.reduce((sum, r) => sum + (r.result as { n: number }).n, 0);
      },
      { queue },
    );
    const flow = await jobs.enqueueFlow({
      kind: "flow.merge",
      children: [
        { kind: "flow.part", payload: { n: 1 } },
        { kind: "flow.part", payload: { n: 2 } },
      ],
    });
    assert.equal(flow.children.length, 2);
    assert.equal((await jobs.get(flow.id))?.state, "waiting");
    const worker = await startJobs(jobs);
    try {
      const root = await waitForState(jobs, flow.id, "completed");
      assert.equal(root.result, 30);
      assert.equal(order.at(-1), "merge", `order ${order.join(", ")}`);
      assert.deepEqual(
        seen.map((r) => [r.id, r.kind, r.ok, r.result]),
        [
          [flow.children[0]!.id, "flow.part", true, { n: 10 }],
          [flow.children[1]!.id, "flow.part", true, { n: 20 }],
        ],
      );
    } finally {
      await worker.stop();
    }
  });

  it("a discarded parent cancels its waiting dependents down the tree, recording why", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const a = await jobs.enqueue("dep.a", null, { queue, maxAttempts: 1 });
    const bb = await jobs.enqueue("dep.b", null, { queue, after: [a.id] });
    const c = await jobs.enqueue("dep.c", null, { queue, after: [bb.id] });
    const other = await jobs.enqueue("dep.other", null, { queue });
    const d = await jobs.enqueue("dep.d", null, { queue, after: [bb.id, other.id], onParentFailure: "run" });
    const [claimed] = await store.jobs.claim({ queue, limit: 1, ...lease });
    assert.equal(claimed?.id, a.id);
    await store.jobs.fail([
      {
        ...claimed!,
        error: { attempt: 1, at: new Date().toISOString(), message: "boom" },
        retryAt: null,
      },
    ]);
    const jb = await jobs.get(bb.id);
    const jc = await jobs.get(c.id);
    assert.equal(jb?.state, "cancelled");
    assert.equal(jb?.errors.at(-1)?.code, "TEND_E_JOB_PARENT_FAILED");
    assert.match(jb!.errors.at(-1)!.message, new RegExp(`parent job ${a.id} was discarded`));
    assert.ok(jb?.finishedAt instanceof Date);
    assert.equal(jc?.state, "cancelled", "the cancellation ran down to the grandchild");
    assert.match(jc!.errors.at(-1)!.message, new RegExp(`parent job ${bb.id} was cancelled`));
    assert.equal((await jobs.get(d.id))?.state, "waiting", "run-anyway still waits for its other parent");
    const [o] = await store.jobs.claim({ queue, limit: 1, ...lease });
    assert.equal(o?.id, other.id);
    await store.jobs.complete([{ ...o!, result: null }]);
    assert.equal((await jobs.get(d.id))?.state, "available", "run-anyway runs once every parent finished");
  });

  it("cancelling a parent (pending or waiting) cancels its dependents; onParentFailure 'run' releases them", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const a = await jobs.enqueue("dep.a", null, { queue, delay: "1h" });
    const b = await jobs.enqueue("dep.b", null, { queue, after: [a.id] });
    const c = await jobs.enqueue("dep.c", null, { queue, after: [b.id] });
    const r = await jobs.enqueue("dep.r", null, { queue, after: [a.id], onParentFailure: "run" });
    await jobs.cancel(a.id);
    assert.equal((await jobs.get(b.id))?.state, "cancelled");
    assert.equal((await jobs.get(c.id))?.state, "cancelled");
    assert.equal((await jobs.get(r.id))?.state, "available");
    // A waiting job can itself be cancelled, and its dependents follow.
    const p = await jobs.enqueue("dep.p", null, { queue, delay: "1h" });
    const w = await jobs.enqueue("dep.w", null, { queue, after: [p.id] });
    const x = await jobs.enqueue("dep.x", null, { queue, after: [w.id] });
    assert.equal((await jobs.cancel(w.id)).state, "cancelled");
    assert.equal((await jobs.get(x.id))?.state, "cancelled");
    assert.equal((await jobs.get(p.id))?.state, "scheduled", "a parent is not touched by its dependent");
  });

  it("deleting a pending parent cancels its waiting dependents", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const a = await jobs.enqueue("dep.a", null, { queue, delay: "1h" });
    const b = await jobs.enqueue("dep.b", null, { queue, after: [a.id] });
    const outcome = await store.admin.deleteJob(a.id);
    assert.equal(outcome.deleted, true);
    const jb = await jobs.get(b.id);
    assert.equal(jb?.state, "cancelled");
    assert.match(jb!.errors.at(-1)!.message, new RegExp(`parent job ${a.id} was deleted`));
    await store.admin.deleteJob(b.id);
    assert.deepEqual(await store.jobs.dependencies(b.id), { parents: [], dependents: [] });
  });

  it("after a parent that already finished: completed runs at once; discarded or cancelled follows onParentFailure", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const done = await jobs.enqueue("dep.done", null, { queue });
    const [d] = await store.jobs.claim({ queue, limit: 1, ...lease });
    await store.jobs.complete([{ ...d!, result: "7" }]);
    const gone = await jobs.enqueue("dep.gone", null, { queue, delay: "1h" });
    await jobs.cancel(gone.id);
    const ready = await jobs.enqueue("dep.ready", null, { queue, after: [done.id] });
    assert.equal((await jobs.get(ready.id))?.state, "available");
    const cancelled = await jobs.enqueue("dep.x", null, { queue, after: [done.id, gone.id] });
    const cj = await jobs.get(cancelled.id);
    assert.equal(cj?.state, "cancelled");
    assert.equal(cj?.errors[0]?.code, "TEND_E_JOB_PARENT_FAILED");
    assert.match(cj!.errors[0]!.message, new RegExp(`parent job ${gone.id} was cancelled`));
    const anyway = await jobs.enqueue("dep.y", null, { queue, after: [gone.id], onParentFailure: "run" });
    assert.equal((await jobs.get(anyway.id))?.state, "available");
  });

  it("a parent id that names no job fails the call with TEND_E_JOB_PARENT_NOT_FOUND and enqueues nothing", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const a = await jobs.enqueue("dep.a", null, { queue });
    await assert.rejects(
      jobs.enqueueMany([
        { kind: "dep.first", queue },
        { kind: "dep.b", queue, after: [a.id, "999999999"] },
      ]),
      (err: unknown) =>
        err instanceof TendError &&
        err.code === "TEND_E_JOB_PARENT_NOT_FOUND" &&
        /999999999/.test(err.message),
    );
    const listed = await jobs.list({ queue });
    assert.deepEqual(
      listed.map((j) => j.id),
      [a.id],
      "the whole call was rolled back",
    );
    assert.deepEqual((await store.jobs.dependencies(a.id)).dependents, []);
  });

  it("a chain of waiting jobs is bounded: the longest one is cancelled in one go when its head fails", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const head = await jobs.enqueue("dep.head", null, { queue, delay: "1h" });
    // MAX_WAITING_CHAIN (200) waiting jobs, each after the previous one.
    let last = head.id;
    for (let i = 0; i < MAX_WAITING_CHAIN; i++)
      last = (await jobs.enqueue("dep.link", null, { queue, after: [last] })).id;
    await assert.rejects(
      jobs.enqueue("dep.one-too-many", null, { queue, after: [last] }),
      (err: unknown) => err instanceof TendError && err.code === "TEND_E_JOB_DEPENDENCY_TOO_DEEP",
    );
    // A job after a job that does not wait starts a chain of its own.
    const beside = await jobs.enqueue("dep.beside", null, { queue, after: [head.id] });
    assert.equal((await jobs.get(beside.id))?.state, "waiting");
    // The head fails: the whole chain is cancelled by that one statement, within the database's limits.
    await jobs.cancel(head.id);
    assert.equal((await jobs.get(last))?.state, "cancelled");
    assert.equal((await jobs.list({ queue, state: "waiting" })).length, 0);
  });

  it("a job enqueued late in a long caller transaction is created in the order of its id", async (t) => {
    const { store, backend } = ctx();
    if (backend.driver !== "postgres")
      return t.skip(
        "PostgreSQL only: on SQLite a caller's transaction holds the write lock, so no enqueue can interleave",
      );
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    let inside = "";
    let outside = "";
    await backend.inCallerTransaction(async (tx) => {
      outside = (await jobs.enqueue("tx.outside", null, { queue })).id; // committed at once, meanwhile
      inside = (await jobs.enqueue("tx.inside", null, { queue, tx })).id;
    }, "commit");
    const [a, b] = [await jobs.get(outside), await jobs.get(inside)];
    assert.ok(BigInt(inside) > BigInt(outside), "the later insert has the later id");
    assert.ok(
      b!.createdAt >= a!.createdAt,
      `created ${b!.createdAt.toISOString()} before ${a!.createdAt.toISOString()}`,
    );
    // A list by creation time, as the dashboard bisects ids by it, finds the job.
    const since = await store.admin.firstIdAt(a!.createdAt);
    assert.ok(since !== null && BigInt(since) <= BigInt(inside));
  });

  it("jobs with parents enqueue inside the caller's transaction, and exist only if it commits", async () => {
    const { store, backend } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const a = await jobs.enqueue("dep.a", null, { queue });
    let kept = "";
    await backend.inCallerTransaction(async (tx) => {
      kept = (await jobs.enqueue("dep.b", null, { queue, after: [a.id], tx })).id;
    }, "commit");
    let dropped = "";
    await backend.inCallerTransaction(async (tx) => {
      dropped = (await jobs.enqueue("dep.c", null, { queue, after: [a.id], tx })).id;
    }, "rollback");
    assert.equal((await jobs.get(kept))?.state, "waiting");
    assert.equal(await jobs.get(dropped), null);
    assert.deepEqual(
      (await store.jobs.dependencies(a.id)).dependents.map((d) => d.id),
      [kept],
    );
  });

  it("a parent completed through one store instance releases a dependent that another instance's worker runs", async () => {
    const { store, backend } = ctx();
    const other = await backend.open();
    const queue = uniqueQueue();
    const producer = makeJobs(store);
    const runner = makeJobs(other);
    runner.define("dep.run", () => "ran", { queue });
    const a = await producer.enqueue("dep.parent", null, { queue: `${queue}-p` });
    const c = await producer.enqueue("dep.run", null, { queue, after: [a.id] });
    const worker = await startJobs(runner);
    try {
      const [claimed] = await store.jobs.claim({ queue: `${queue}-p`, limit: 1, ...lease });
      await store.jobs.complete([{ ...claimed!, result: null }]);
      const done = await waitForState(runner, c.id, "completed");
      assert.equal(done.result, "ran");
    } finally {
      await worker.stop();
    }
  });

  it("a dependent released by its parent's failure or cancel starts at once in the worker's own process", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    // Polls every minute: only the release's own wake-up can start the dependents in time.
    const jobs = makeJobs(store, { pollInterval: "60s", queues: { [queue]: { concurrency: 2 } } });
    jobs.define("dep.fails", () => Promise.reject(new Error("no")), { queue, maxAttempts: 1 });
    jobs.define("dep.anyway", () => "ran", { queue });
    // Enqueued before the worker starts, so that its first claim takes the failing parent.
    const failing = await jobs.enqueue("dep.fails", null, { queue });
    const afterFailed = await jobs.enqueue("dep.anyway", null, {
      queue,
      after: [failing.id],
      onParentFailure: "run",
    });
    const held = await jobs.enqueue("dep.held", null, { queue, delay: "1h" });
    const afterCancelled = await jobs.enqueue("dep.anyway", null, {
      queue,
      after: [held.id],
      onParentFailure: "run",
    });
    const worker = await startJobs(jobs);
    try {
      await waitForState(jobs, failing.id, "discarded");
      await waitForState(jobs, afterFailed.id, "completed", 10_000);
      await jobs.cancel(held.id);
      await waitForState(jobs, afterCancelled.id, "completed", 10_000);
    } finally {
      await worker.stop();
    }
  });

  it("two parents completed at once in two transactions both count: their dependent is released", async () => {
    const { store, backend } = ctx();
    const other = await backend.open();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    for (let round = 0; round < 5; round++) {
      const a = await jobs.enqueue("dep.a", null, { queue });
      const b = await jobs.enqueue("dep.b", null, { queue });
      const c = await jobs.enqueue("dep.c", null, { queue: `${queue}-c`, after: [a.id, b.id] });
      const [ja] = await store.jobs.claim({ queue, limit: 1, ...lease });
      const [jb] = await other.jobs.claim({ queue, limit: 1, ...lease });
      await Promise.all([
        store.jobs.complete([{ ...ja!, result: null }]),
        other.jobs.complete([{ ...jb!, result: null }]),
      ]);
      assert.equal((await jobs.get(c.id))?.state, "available", `round ${round}`);
    }
  });

  it("a parent completed in this process releases a dependent that a worker in another process runs", async () => {
    const { store, backend } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "dependent-worker.ts")], {
      env: { ...process.env, DATABASE_URL: backend.url, QUEUE: queue },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = once(child, "exit");
    try {
      child.stdout.setEncoding("utf8");
      let out = "";
      while (!out.includes("ready")) {
        const [chunk] = (await once(child.stdout, "data")) as [string];
        out += chunk;
      }
      const parent = await jobs.enqueue("dep.parent", null, { queue: `${queue}-p` });
      const dependent = await jobs.enqueue("dep.remote", null, { queue, after: [parent.id] });
      const [claimed] = await store.jobs.claim({ queue: `${queue}-p`, limit: 1, ...lease });
      await store.jobs.complete([{ ...claimed!, result: JSON.stringify({ x: 1 }) }]);
      const done = await waitForState(jobs, dependent.id, "completed");
      assert.deepEqual(done.result, { parents: [{ x: 1 }] });
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });

  it("a parent discarded by a rescue (lease lapsed, attempts spent) cancels its dependents", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const a = await jobs.enqueue("dep.a", null, { queue, maxAttempts: 1 });
    const b = await jobs.enqueue("dep.b", null, { queue, after: [a.id] });
    await store.jobs.claim({ queue, limit: 1, workerId: "w-lapsing", leaseMs: 1 });
    await waitFor(async () => (await store.jobs.rescueExpired()).some((r) => r.id === a.id) || null, {
      timeoutMs: 10_000,
      message: "the lapsed lease to be rescued",
    });
    assert.equal((await jobs.get(a.id))?.state, "discarded");
    const jb = await jobs.get(b.id);
    assert.equal(jb?.state, "cancelled");
    assert.match(jb!.errors.at(-1)!.message, new RegExp(`parent job ${a.id} was discarded`));
  });

  it("batches compose: a batch item cancelled by its failed parent finishes the batch", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    jobs.define(
      "dep.fails",
      () => {
        throw new Error("no");
      },
      { queue, maxAttempts: 1 },
    );
    const parent = await jobs.enqueue("dep.fails", null, { queue });
    const batch = await jobs.batch([
      { kind: "dep.never", queue, after: [parent.id] },
      { kind: "dep.never", queue: `${queue}-x`, delay: "1h" },
    ]);
    await jobs.cancel(batch.jobIds[1]!);
    const worker = await startJobs(jobs);
    try {
      const results = await batch.results({ timeout: "15s" });
      assert.deepEqual(
        results.map((r) => [r.state, r.error?.code]),
        [
          ["cancelled", "TEND_E_JOB_PARENT_FAILED"],
          ["cancelled", undefined],
        ],
      );
    } finally {
      await worker.stop();
    }
  });
}
