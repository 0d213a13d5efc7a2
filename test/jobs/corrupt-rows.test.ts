import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { openStore, type Store } from "../../src/store/index.ts";
import { makeJobs, startJobs, uniqueQueue, waitForState } from "../conformance/jobs/helpers.ts";
import { makeTempDir } from "../support/tmp.ts";

/** Rows changed outside tend (by hand, a broken tool): one bad row fails alone, with its reason. */
describe("corrupt job rows (SQLite, where the payload is text)", () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("fails a job whose stored payload is not JSON with TEND_E_INVALID_PAYLOAD, without running it; the others run", async () => {
    const tmp = await makeTempDir("tend-corrupt-");
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, "tend.db");
    const store: Store = await openStore(`sqlite:${path}`);
    cleanups.push(() => store.close());
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const seen: unknown[] = [];
    jobs.define(
      "echo",
      ({ payload }) => {
        seen.push(payload);
        return "ran";
      },
      { queue },
    );
    const [text, blob, good] = await jobs.enqueueMany([
      { kind: "echo", payload: { n: 1 } },
      { kind: "echo", payload: { n: 2 } },
      { kind: "echo", payload: { n: 3 } },
    ]);
    const raw = new DatabaseSync(path);
    raw.prepare(`UPDATE "tend_jobs" SET payload = '{not json' WHERE id = ?`).run(Number(text!.id));
    raw.prepare(`UPDATE "tend_jobs" SET payload = x'00ff' WHERE id = ?`).run(Number(blob!.id));
    raw.close();
    const worker = await startJobs(jobs);
    try {
      assert.equal((await waitForState(jobs, good!.id, "completed")).result, "ran");
      for (const bad of [text!, blob!]) {
        const job = await waitForState(jobs, bad.id, "discarded");
        assert.equal(job.errors[0]?.code, "TEND_E_INVALID_PAYLOAD");
        assert.match(job.errors[0]?.message ?? "", /stored payload/);
      }
      assert.deepEqual(seen, [{ n: 3 }], "the handler ran only on the readable payload");
    } finally {
      await worker.stop();
    }
  });

  it("discards a job whose row holds an integer beyond 2^53 (which cannot be read), and its queue goes on", async () => {
    const tmp = await makeTempDir("tend-corrupt-");
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, "tend.db");
    const store: Store = await openStore(`sqlite:${path}`);
    cleanups.push(() => store.close());
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    jobs.define("count", ({ payload }) => payload, { queue });
    const inserted = await jobs.enqueueMany(
      Array.from({ length: 6 }, (_, n) => ({ kind: "count", payload: n, priority: n === 0 ? -1 : 0 })),
    );
    const bad = inserted[0]!;
    const raw = new DatabaseSync(path);
    // The first job of the queue, changed by hand: every claim would meet it first.
    raw.prepare(`UPDATE "tend_jobs" SET attempt = 9007199254740993 WHERE id = ?`).run(Number(bad.id));
    raw.close();
    const worker = await startJobs(jobs);
    try {
      for (const job of inserted.slice(1)) await waitForState(jobs, job.id, "completed");
      const discarded = await waitForState(jobs, bad.id, "discarded");
      assert.equal(discarded.errors.at(-1)?.code, "TEND_E_JOB_ROW_UNREADABLE");
      assert.match(discarded.errors.at(-1)?.message ?? "", /attempt=9007199254740993/);
    } finally {
      await worker.stop();
    }
  });
});
