import assert from "node:assert/strict";
import { it } from "node:test";
import type { EnqueueItem } from "../../../src/jobs/index.ts";
import type { Store } from "../../../src/store/index.ts";
import type { Backend } from "../../support/backends.ts";
import { openOperator } from "../../support/operator.ts";
import { waitFor } from "../../support/wait.ts";
import { deferred, makeJobs, startJobs, uniqueQueue, waitForState } from "./helpers.ts";

/** Asserts that `call` rejects with `code` and a message matching every pattern. */
async function rejectsWith(call: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(call, (err: Error & { code?: string }) => {
    assert.equal(err.code, code, err.message);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

/**
 * What a job may carry: payloads and results are JSON values that both databases store as they
 * are, checked once by the jobs layer; one job's bad data fails that job alone.
 */
export function storedValues(ctx: () => { backend: Backend; store: Store }): void {
  it("refuses a payload with U+0000 or a lone surrogate at enqueue, naming where it is", async () => {
    const { store } = ctx();
    const jobs = makeJobs(store);
    await rejectsWith(jobs.enqueue("k", "a\u0000b"), "TEND_E_INVALID_PAYLOAD", /payload\b/, /U\+0000/);
    await rejectsWith(
      jobs.enqueue("k", { s: "\ud800" }),
      "TEND_E_INVALID_PAYLOAD",
      /payload\.s\b/,
      /surrogate/,
    );
    await rejectsWith(jobs.enqueue("k", { ["a\u0000"]: 1 }), "TEND_E_INVALID_PAYLOAD", /U\+0000/);
    await rejectsWith(jobs.enqueue("k", ["ok", "\udc00x"]), "TEND_E_INVALID_PAYLOAD", /payload\[1\]/);
    await rejectsWith(
      jobs.enqueueMany([
        { kind: "k", payload: { n: 1 } },
        { kind: "k", payload: { deep: { list: ["x", "y\u0000"] } } },
      ]),
      "TEND_E_INVALID_PAYLOAD",
      /items\[1\]\.payload\.deep\.list\[1\]/,
    );
    await rejectsWith(
      jobs.enqueue("k", {}, { uniqueKey: "key\u0000" }),
      "TEND_E_INVALID_JOB_OPTIONS",
      /uniqueKey/,
    );
    // A well-formed pair, an escaped-looking text and other control characters are fine.
    const { id } = await jobs.enqueue("k", { emoji: "\ud83d\ude00", text: "\\u0000", bell: "\u0007" });
    assert.deepEqual((await jobs.get(id))?.payload, {
      emoji: "\ud83d\ude00",
      text: "\\u0000",
      bell: "\u0007",
    });
  });

  it("a bulk enqueue stores every payload exactly and numbers the jobs in input order, across runs of alike jobs and the jobs between them", async () => {
    const { store } = ctx();
    const jobs = makeJobs(store);
    const queue = uniqueQueue("bulk");
    // Payloads a one-statement insert of many alike jobs must not alter: quotes, backslashes,
    // escapes, non-ASCII, numbers whose shortest form matters, null, nested values.
    const odd: unknown[] = [
      'quote " and \\ backslash',
      "\\u0000 looks escaped",
      { emoji: "\ud83d\ude00", nl: "a\nb", tab: "\t", ls: "\u2028" },
      0.30000000000000004,
      1e300,
      -0.5,
      null,
      [1, [2, [3]], { x: "y" }],
      "",
      true,
    ];
    const items: EnqueueItem[] = [
      ...Array.from({ length: 20 }, (_, i) => ({ kind: "bulk.a", payload: { i }, queue })),
      { kind: "bulk.a", payload: { i: 20 }, queue, priority: 5 },
      ...odd.map((payload) => ({ kind: "bulk.a", payload, queue })),
      ...Array.from({ length: 17 }, (_, i) => ({ kind: "bulk.b", payload: odd[i % odd.length], queue })),
      { kind: "bulk.a", payload: { u: 1 }, queue, uniqueKey: `${queue}-u` },
      ...Array.from({ length: 18 }, (_, i) => ({ kind: "bulk.a", payload: { j: i }, queue, delay: "1h" })),
    ];
    const results = await jobs.enqueueMany(items);
    assert.equal(results.length, items.length);
    assert.ok(results.every((r) => r.inserted));
    const ids = results.map((r) => BigInt(r.id));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `id ${i} after id ${i - 1}`);
    for (let i = 0; i < items.length; i++) {
      const job = await jobs.get(results[i]!.id);
      assert.ok(job !== null, `job ${i}`);
      assert.deepEqual(job.payload, items[i]!.payload, `payload of job ${i}`);
      assert.equal(job.kind, items[i]!.kind);
      assert.equal(job.priority, items[i]!.priority ?? 0);
      assert.equal(job.state, "delay" in items[i]! ? "scheduled" : "available", `state of job ${i}`);
    }

    const batch = await jobs.batch(
      Array.from({ length: 40 }, (_, i) => ({ kind: "bulk.c", payload: { i }, queue })),
    );
    const members = await jobs.list({ queue, kind: "bulk.c", limit: 100 });
    assert.equal(members.length, 40);
    for (const m of members) {
      assert.equal(m.batchId, batch.id);
      assert.deepEqual(m.payload, { i: m.batchIndex });
    }
  });

  it("refuses payloads JSON would change, naming the path; keeps Dates as ISO strings", async () => {
    const { store } = ctx();
    const jobs = makeJobs(store);
    class Money {
      readonly cents: number;
      constructor(cents: number) {
        this.cents = cents;
      }
    }
    const cases: Array<[unknown, RegExp]> = [
      [{ m: new Map([["a", 1]]) }, /payload\.m\b.*Map/],
      [{ items: [1, 2, 3, new Set([1])] }, /payload\.items\[3\].*Set/],
      [{ n: Number.NaN }, /payload\.n\b.*NaN/],
      [{ n: Number.POSITIVE_INFINITY }, /payload\.n\b.*Infinity/],
      [[1, undefined], /payload\[1\].*undefined/],
      [{ n: 1n }, /payload\.n\b.*BigInt/],
      [{ f: () => 1 }, /payload\.f\b.*function/],
      [{ at: new Date(Number.NaN) }, /payload\.at\b.*invalid Date/],
      [{ bytes: new Uint8Array([1]) }, /payload\.bytes\b.*Uint8Array/],
      [{ "odd key": { e: new Error("x") } }, /payload\["odd key"\]\.e\b.*Error/],
    ];
    for (const [payload, pattern] of cases) {
      await rejectsWith(jobs.enqueue("k", payload), "TEND_E_INVALID_PAYLOAD", pattern);
    }
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic["self"] = cyclic;
    await rejectsWith(jobs.enqueue("k", cyclic), "TEND_E_INVALID_PAYLOAD", /payload\.self\b.*cycle/);

    const at = new Date("2026-01-02T03:04:05.678Z");
    const { id } = await jobs.enqueue("k", {
      at,
      money: new Money(250),
      skipped: undefined,
      nested: [{ when: at, ok: true, n: -0.5, none: null }],
    });
    assert.deepEqual((await jobs.get(id))?.payload, {
      at: "2026-01-02T03:04:05.678Z",
      money: { cents: 250 },
      nested: [{ when: "2026-01-02T03:04:05.678Z", ok: true, n: -0.5, none: null }],
    });
  });

  it("fails a job whose result cannot be stored alone; the jobs completed with it in one batch are kept", async () => {
    const { store } = ctx();
    const queue = uniqueQueue();
    const jobs = makeJobs(store, { concurrency: 30 });
    const gate = deferred();
    let started = 0;
    const allStarted = deferred();
    const handler = async (result: unknown) => {
      if (++started === 20) allStarted.resolve();
      await gate.promise;
      return result;
    };
    jobs.define("good", ({ payload }) => handler({ n: payload }), { queue, maxAttempts: 1 });
    jobs.define("nul", () => handler({ text: "a\u0000b" }), { queue, maxAttempts: 1 });
    jobs.define("lone", () => handler(["\ud800"]), { queue, maxAttempts: 1 });
    jobs.define(
      "thrower",
      async () => {
        await handler(null);
        throw new Error("bad \u0000 byte and a lone \ud800 surrogate");
      },
      { queue, maxAttempts: 1 },
    );
    const good = await jobs.enqueueMany(Array.from({ length: 17 }, (_, n) => ({ kind: "good", payload: n })));
    const [nul, lone, thrower] = await jobs.enqueueMany([
      { kind: "nul" },
      { kind: "lone" },
      { kind: "thrower" },
    ]);
    const worker = await startJobs(jobs);
    try {
      await allStarted.promise;
      gate.resolve(); // every handler returns in the same turn: their outcomes share write batches
      for (const { id } of good) {
        const job = await waitForState(jobs, id, "completed");
        assert.equal(job.attempt, 1);
      }
      for (const { id } of [nul!, lone!]) {
        const job = await waitForState(jobs, id, "discarded");
        assert.equal(job.errors.length, 1);
        assert.equal(job.errors[0]?.code, "TEND_E_INVALID_RESULT");
        assert.match(job.errors[0]!.message, /result/);
      }
      const failed = await waitForState(jobs, thrower!.id, "discarded");
      assert.equal(failed.errors[0]?.message, "bad \\u0000 byte and a lone \\ud800 surrogate");
      assert.match(failed.errors[0]?.stack ?? "", /bad \\u0000 byte/);
    } finally {
      await worker.stop();
    }
  });

  it("writes a batch's outcomes one by one when the database refuses the batch: only the refused job fails", async () => {
    const { backend, store } = ctx();
    const queue = uniqueQueue();
    const kind = `refused_${queue.slice(2)}`.replaceAll("-", "_");
    const operator = await openOperator(backend);
    // The database itself refuses to complete jobs of one kind (a trigger), as it would refuse a
    // value it cannot store: the batched statement fails as a whole.
    if (backend.driver === "postgres") {
      await operator.exec(`CREATE FUNCTION tend.${kind}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.state = 'completed' AND NEW.kind = '${kind}' THEN RAISE EXCEPTION 'refusing job %', NEW.id; END IF;
          RETURN NEW;
        END $$`);
      await operator.exec(
        `CREATE TRIGGER ${kind} BEFORE UPDATE ON tend.jobs FOR EACH ROW EXECUTE FUNCTION tend.${kind}()`,
      );
    } else {
      await operator.exec(
        `CREATE TRIGGER ${kind} BEFORE UPDATE OF state ON tend_jobs
         WHEN NEW.state = 'completed' AND NEW.kind = '${kind}' BEGIN SELECT RAISE(ABORT, 'refusing the job'); END`,
      );
    }
    const jobs = makeJobs(store, { concurrency: 30 });
    const gate = deferred();
    let started = 0;
    const allStarted = deferred();
    const handler = async () => {
      if (++started === 12) allStarted.resolve();
      await gate.promise;
      return { ok: true };
    };
    jobs.define("fine", handler, { queue, maxAttempts: 1 });
    jobs.define(kind, handler, { queue, maxAttempts: 2, backoff: () => 60_000 });
    const fine = await jobs.enqueueMany(Array.from({ length: 11 }, () => ({ kind: "fine" })));
    const refused = await jobs.enqueue(kind);
    const worker = await startJobs(jobs);
    try {
      await allStarted.promise;
      gate.resolve();
      for (const { id } of fine) await waitForState(jobs, id, "completed");
      const job = await waitForState(jobs, refused.id, "retryable");
      assert.equal(job.errors.length, 1);
      assert.equal(job.errors[0]?.code, "TEND_E_RESULT_NOT_RECORDED");
      assert.match(job.errors[0]!.message, /refusing/);
      await waitFor(() => jobs.counters()?.completed === 11, { message: "11 completions counted" });
      assert.equal(jobs.counters()?.failed, 1);
    } finally {
      await worker.stop();
      if (backend.driver === "postgres") await operator.exec(`DROP FUNCTION tend.${kind}() CASCADE`);
      else await operator.exec(`DROP TRIGGER ${kind}`);
      await operator.close();
    }
  });
}
