import assert from "node:assert/strict";
import { it } from "node:test";
import type { Store } from "../../../src/store/index.ts";
import type { Backend } from "../../support/backends.ts";
import { makeJobs, startJobs, uniqueQueue, waitForState } from "./helpers.ts";

export function failures(ctx: () => { backend: Backend; store: Store }): void {
  it("retries a failing job with the kind's backoff and keeps every error", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const delays: number[] = [];
    jobs.define(
      "flaky",
      ({ attempt }) => {
        if (attempt < 3) throw new Error(`boom ${attempt}`);
        return "ok";
      },
      {
        queue,
        maxAttempts: 5,
        backoff: (n) => {
          delays.push(n);
          return 10;
        },
      },
    );
    const worker = await startJobs(jobs);
    try {
      const { id } = await jobs.enqueue("flaky");
      const job = await waitForState(jobs, id, "completed");
      assert.equal(job.attempt, 3);
      assert.deepEqual(delays, [1, 2]);
      assert.deepEqual(
        job.errors.map((e) => [e.attempt, e.message]),
        [
          [1, "boom 1"],
          [2, "boom 2"],
        ],
      );
      assert.match(job.errors[0]!.stack ?? "", /boom 1/);
      assert.equal(job.result, "ok");
    } finally {
      await worker.stop();
    }
  });

  it("retries after the default backoff when the kind's backoff function throws or returns no usable delay", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const bad: Array<() => number> = [
      () => 1e16, // more than a hundred years: an invalid date
      () => -5,
      () => Number.NaN,
      () => {
        throw new Error("backoff bug");
      },
    ];
    bad.forEach((backoff, i) =>
      jobs.define(
        `bad-backoff-${i}`,
        () => {
          throw new Error(`boom ${i}`);
        },
        { queue, maxAttempts: 5, backoff },
      ),
    );
    const worker = await startJobs(jobs);
    try {
      const ids = await Promise.all(bad.map(async (_, i) => (await jobs.enqueue(`bad-backoff-${i}`)).id));
      for (const [i, id] of ids.entries()) {
        const job = await waitForState(jobs, id, "retryable");
        const failedAt = Date.parse(job.errors[0]!.at);
        assert.equal(job.attempt, 1, `kind ${i}: one attempt spent`);
        assert.deepEqual(
          job.errors.map((e) => e.message),
          [`boom ${i}`],
          `kind ${i}: the handler's own error is recorded`,
        );
        // The default backoff's first delay: 1 s, spread by ±25%.
        const delay = job.runAt.getTime() - failedAt;
        assert.ok(delay >= 700 && delay <= 1_300, `kind ${i}: retried after ${delay} ms`);
      }
    } finally {
      await worker.stop();
    }
  });

  it("records the failure of a handler that throws something unreadable (a throwing getter, a Proxy, a Symbol)", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const getterThrows = new Error("hidden");
    Object.defineProperty(getterThrows, "message", {
      get() {
        throw new Error("no message for you");
      },
    });
    const symbolName = new Error("named");
    Object.defineProperty(symbolName, "name", { value: Symbol("odd") });
    const revoked = Proxy.revocable(new Error("revoked"), {});
    revoked.revoke();
    const thrown: unknown[] = [getterThrows, symbolName, revoked.proxy, Symbol("thrown")];
    thrown.forEach((value, i) =>
      jobs.define(
        `unreadable-${i}`,
        () => {
          throw value;
        },
        { queue, maxAttempts: 1 },
      ),
    );
    const worker = await startJobs(jobs);
    try {
      const ids = await Promise.all(thrown.map(async (_, i) => (await jobs.enqueue(`unreadable-${i}`)).id));
      for (const [i, id] of ids.entries()) {
        const job = await waitForState(jobs, id, "discarded");
        assert.equal(job.attempt, 1, `kind ${i}: one attempt`);
        assert.equal(job.lost, 0, `kind ${i}: not counted as a lost worker`);
        assert.equal(job.errors.length, 1, `kind ${i}: its failure recorded`);
        assert.ok(job.errors[0]!.message.length > 0, `kind ${i}: with a message`);
      }
    } finally {
      await worker.stop();
    }
  });

  it("discards a job after max attempts, keeping every error", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    jobs.define(
      "doomed",
      ({ attempt }) => {
        throw new Error(`fail ${attempt}`);
      },
      { queue, maxAttempts: 3, backoff: () => 5 },
    );
    const worker = await startJobs(jobs);
    try {
      const { id } = await jobs.enqueue("doomed");
      const job = await waitForState(jobs, id, "discarded");
      assert.equal(job.attempt, 3);
      assert.deepEqual(
        job.errors.map((e) => e.message),
        ["fail 1", "fail 2", "fail 3"],
      );
    } finally {
      await worker.stop();
    }
  });

  it("gives up on a handler that ignores its aborted signal after its timeout: the timeout is recorded and the slot freed", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store, { concurrency: 1 });
    let calls = 0;
    // Never settles and never reads its signal.
    jobs.define(
      "deaf",
      () => {
        calls++;
        return new Promise<void>(() => {});
      },
      { queue, timeout: 100, maxAttempts: 1 },
    );
    jobs.define("behind", () => "done", { queue });
    const worker = await startJobs(jobs);
    try {
      const deaf = await jobs.enqueue("deaf", {}, { priority: -1 });
      const behind = await jobs.enqueue("behind");
      // After the timeout and the abort grace (2 s): the timeout recorded, and the one slot free.
      const job = await waitForState(jobs, deaf.id, "discarded");
      assert.equal(calls, 1);
      assert.deepEqual(
        job.errors.map((e) => e.code),
        ["TEND_E_JOB_TIMEOUT"],
      );
      assert.match(job.errors[0]!.message, /ignored that for 2000 ms/);
      assert.equal((await waitForState(jobs, behind.id, "completed")).result, "done");
    } finally {
      await worker.stop();
    }
  });

  it("gives up on a cancelled handler that ignores its signal past its timeout: cancelled, the slot freed", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store, { concurrency: 1 });
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    jobs.define(
      "deaf",
      () => {
        started();
        return new Promise<void>(() => {});
      },
      { queue, timeout: 300, maxAttempts: 1 },
    );
    jobs.define("behind", () => "done", { queue });
    const worker = await startJobs(jobs);
    try {
      const deaf = await jobs.enqueue("deaf", {}, { priority: -1 });
      const behind = await jobs.enqueue("behind");
      await running;
      // Cancelled before its timeout: the cancel aborts its signal, which it ignores.
      await jobs.cancel(deaf.id);
      assert.equal((await waitForState(jobs, deaf.id, "cancelled")).state, "cancelled");
      assert.equal((await waitForState(jobs, behind.id, "completed")).result, "done");
    } finally {
      await worker.stop();
    }
  });

  it("aborts a handler's signal at its timeout and records TEND_E_JOB_TIMEOUT", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    let sawAbort = false;
    jobs.define(
      "slow",
      async ({ signal }) => {
        await new Promise<void>((_, reject) => {
          signal.addEventListener("abort", () => {
            sawAbort = true;
            reject(signal.reason);
          });
        });
      },
      { queue, timeout: 100, maxAttempts: 1 },
    );
    const worker = await startJobs(jobs);
    try {
      const { id } = await jobs.enqueue("slow");
      const job = await waitForState(jobs, id, "discarded");
      assert.equal(sawAbort, true);
      assert.equal(job.errors[0]?.code, "TEND_E_JOB_TIMEOUT");
    } finally {
      await worker.stop();
    }
  });

  it("fails an unknown kind and a bad payload alone, and keeps running other jobs", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    jobs.define("good", () => "fine", { queue });
    jobs.define("typed", ({ payload }) => payload, {
      queue,
      validate: (p) => {
        if (typeof (p as { n?: unknown })?.n !== "number") throw new Error("n must be a number");
        return p as { n: number };
      },
    });
    const unknown = await jobs.enqueue("nobody.handles.this", { x: 1 }, { queue, maxAttempts: 2 });
    const bad = await jobs.enqueue("typed", { n: "not a number" });
    const good = await jobs.enqueue("good");
    const worker = await startJobs(jobs);
    try {
      await waitForState(jobs, good.id, "completed");
      const badJob = await waitForState(jobs, bad.id, "discarded");
      assert.equal(badJob.attempt, 1, "a bad payload is not retried");
      assert.equal(badJob.errors[0]?.code, "TEND_E_INVALID_PAYLOAD");
      assert.match(badJob.errors[0]!.message, /n must be a number/);
      const unknownJob = await waitForState(jobs, unknown.id, "retryable");
      assert.equal(unknownJob.errors[0]?.code, "TEND_E_UNKNOWN_JOB_KIND");
      assert.match(unknownJob.errors[0]!.message, /nobody\.handles\.this/);
    } finally {
      await worker.stop();
    }
  });

  for (const mode of ["synchronous", "asynchronous"] as const)
    it(`validates with a Standard Schema whose result is ${mode}: the handler gets its value, a bad payload fails alone with the issues`, async () => {
      const { store } = ctx();
      const queue = uniqueQueue();
      const jobs = makeJobs(store);
      // A Standard Schema (the interface zod, valibot and arktype implement): n as a decimal string, out as a number.
      const check = (value: unknown) => {
        const n = (value as { n?: unknown })?.n;
        return typeof n === "string" && /^\d+$/.test(n)
          ? { value: { n: Number(n) } }
          : { issues: [{ message: "n must be a decimal string" }] };
      };
      const schema = {
        "~standard": {
          version: 1 as const,
          vendor: "test",
          validate: (value: unknown) =>
            mode === "synchronous" ? check(value) : Promise.resolve(check(value)),
        },
      };
      jobs.define("parsed", ({ payload }) => ({ next: payload.n + 1 }), { queue, validate: schema });
      const bad = await jobs.enqueue("parsed", { n: 7 });
      const good = await jobs.enqueue("parsed", { n: "21" });
      const worker = await startJobs(jobs);
      try {
        const done = await waitForState(jobs, good.id, "completed");
        assert.deepEqual(done.result, { next: 22 }, "the handler got the schema's output (a number)");
        const badJob = await waitForState(jobs, bad.id, "discarded");
        assert.equal(badJob.attempt, 1, "a bad payload is not retried");
        assert.equal(badJob.errors[0]?.code, "TEND_E_INVALID_PAYLOAD");
        assert.match(badJob.errors[0]!.message, /n must be a decimal string/);
      } finally {
        await worker.stop();
      }
    });

  it("records a result that cannot be stored as a failure of that job", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    jobs.define("bigint", () => ({ n: 1n }), { queue, maxAttempts: 1 });
    const worker = await startJobs(jobs);
    try {
      const { id } = await jobs.enqueue("bigint");
      const job = await waitForState(jobs, id, "discarded");
      assert.equal(job.errors[0]?.code, "TEND_E_INVALID_RESULT");
    } finally {
      await worker.stop();
    }
  });

  it("sets each job's maxLost from the enqueue, else its kind, else the app, else 3", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const appDefault = makeJobs(store, { maxLost: 2 });
    appDefault.define("fragile", () => undefined, { queue, maxLost: 1 });
    appDefault.define("plain", () => undefined, { queue });
    const fromKind = await appDefault.enqueue("fragile");
    const fromEnqueue = await appDefault.enqueue("fragile", null, { maxLost: 5 });
    const fromApp = await appDefault.enqueue("plain");
    const fromDefault = await makeJobs(store).enqueue("plain", null, { queue });
    const maxLost = async (id: string) => (await appDefault.get(id))?.maxLost;
    assert.equal(await maxLost(fromKind.id), 1);
    assert.equal(await maxLost(fromEnqueue.id), 5);
    assert.equal(await maxLost(fromApp.id), 2);
    assert.equal(await maxLost(fromDefault.id), 3);
    assert.equal((await appDefault.get(fromKind.id))?.lost, 0);
    for (const bad of [0, 1.5, "3", 1001]) {
      assert.throws(() => makeJobs(store, { maxLost: bad as never }), { code: "TEND_E_INVALID_JOB_OPTIONS" });
      assert.throws(() => appDefault.define(`k${String(bad)}`, () => undefined, { maxLost: bad as never }), {
        code: "TEND_E_INVALID_JOB_OPTIONS",
      });
      await assert.rejects(appDefault.enqueue("plain", null, { maxLost: bad as never }), {
        code: "TEND_E_INVALID_JOB_OPTIONS",
      });
    }
    for (const id of [fromKind.id, fromEnqueue.id, fromApp.id, fromDefault.id]) await appDefault.cancel(id);
  });

  it("rejects bad enqueue input with TEND_E_ codes naming the value", async () => {
    const { store } = ctx();
    const jobs = makeJobs(store, { maxPayloadBytes: 1024 });
    await assert.rejects(jobs.enqueue("bad kind!"), { code: "TEND_E_INVALID_JOB_KIND" });
    await assert.rejects(jobs.enqueue("k", {}, { queue: "" }), { code: "TEND_E_INVALID_QUEUE" });
    await assert.rejects(jobs.enqueue("k", { big: "x".repeat(2000) }), { code: "TEND_E_PAYLOAD_TOO_LARGE" });
    await assert.rejects(jobs.enqueue("k", { n: 1n }), { code: "TEND_E_INVALID_PAYLOAD" });
    await assert.rejects(jobs.enqueue("k", {}, { maxAttempts: 0 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, "TEND_E_INVALID_JOB_OPTIONS");
      assert.match(err.message, /maxAttempts/);
      assert.match(err.message, /got 0/);
      return true;
    });
    await assert.rejects(jobs.enqueue("k", {}, { delay: "soon" }), { code: "TEND_E_INVALID_JOB_OPTIONS" });
    await assert.rejects(jobs.enqueue("k", {}, { tx: { not: "a transaction" } }), {
      code: "TEND_E_INVALID_TRANSACTION",
    });
    assert.throws(() => jobs.define("k", "nope" as never), { code: "TEND_E_INVALID_JOB_OPTIONS" });
    jobs.define("k", () => undefined);
    assert.throws(() => jobs.define("k", () => undefined), { code: "TEND_E_DUPLICATE_JOB_KIND" });
    assert.throws(() => jobs.cron("not a cron", "k"), { code: "TEND_E_INVALID_CRON" });
    await assert.rejects(jobs.get("12abc"), { code: "TEND_E_INVALID_JOB_ID" });
    await assert.rejects(jobs.cancel("999999999"), { code: "TEND_E_JOB_NOT_FOUND" });
  });
}
