import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ErrorCode } from "../../../src/errors/catalogue.ts";
import { isTendError } from "../../../src/errors/tend-error.ts";
import type { JobState } from "../../../src/store/index.ts";
import type { FreshStore } from "../../support/backends.ts";
import { insertOne, newJob } from "./helpers.ts";

const code = (c: ErrorCode) => (err: unknown) => isTendError(err, c);

/** Bad arguments fail with stable codes; a closed store refuses calls. */
export function describeValidation(h: () => FreshStore): void {
  describe("argument validation", () => {
    it("rejects malformed job ids with TEND_E_INVALID_JOB_ID", async () => {
      const { store } = h();
      // The last two: past the largest bigint (PostgreSQL refused the statement, SQLite read -1).
      for (const bad of [
        "abc",
        "",
        "1; DROP TABLE x",
        "-1",
        "1.5",
        "9223372036854775808",
        "9999999999999999999",
      ]) {
        await assert.rejects(store.jobs.get(bad), code("TEND_E_INVALID_JOB_ID"), bad);
        await assert.rejects(store.jobs.cancel(bad), code("TEND_E_INVALID_JOB_ID"), bad);
        await assert.rejects(store.jobs.retry(bad), code("TEND_E_INVALID_JOB_ID"), bad);
      }
      await assert.rejects(store.jobs.list({ beforeId: "x" }), code("TEND_E_INVALID_JOB_ID"));
      await assert.rejects(
        store.jobs.list({ beforeId: "9999999999999999999" }),
        code("TEND_E_INVALID_JOB_ID"),
      );
      // The largest bigint is an id, of no job here.
      assert.equal(await store.jobs.get("9223372036854775807"), null);
      const id = await insertOne(store);
      assert.deepEqual(
        (await store.jobs.list({ beforeId: "9223372036854775807" })).map((j) => j.id),
        [id],
      );
    });

    it("rejects out-of-range limits, leases, dates and states with TEND_E_INVALID_STORE_ARGUMENT", async () => {
      const { store } = h();
      const bad = code("TEND_E_INVALID_STORE_ARGUMENT");
      await assert.rejects(store.jobs.claim({ queue: "q", limit: 0, workerId: "w", leaseMs: 1000 }), bad);
      await assert.rejects(store.jobs.claim({ queue: "q", limit: 1.5, workerId: "w", leaseMs: 1000 }), bad);
      await assert.rejects(store.jobs.claim({ queue: "q", limit: 1, workerId: "w", leaseMs: 0 }), bad);
      await assert.rejects(store.jobs.heartbeat([{ id: "1", leaseToken: "t" }], -5), bad);
      await assert.rejects(store.jobs.list({ limit: 10_001 }), bad);
      // Deliberately a state outside the type.
      await assert.rejects(store.jobs.list({ state: "finished" as unknown as JobState }), bad);
      await assert.rejects(store.jobs.prune(new Date(Number.NaN), 10), bad);
      await assert.rejects(store.jobs.prune(new Date(), 0), bad);
      await assert.rejects(store.jobs.enqueueCronTick("c", new Date(Number.NaN), newJob()), bad);
    });

    it("ignores malformed lease refs (they hold nothing)", async () => {
      const { store } = h();
      assert.deepEqual(await store.jobs.complete([{ id: "nope", leaseToken: "t", result: null }]), []);
      assert.deepEqual(await store.jobs.heartbeat([{ id: "nope", leaseToken: "t" }], 1000), [
        { id: "nope", held: false, cancelRequested: false },
      ]);
    });

    it("refuses calls after close() with TEND_E_STORE_CLOSED", async () => {
      const { store } = h();
      await store.close();
      await assert.rejects(store.jobs.insert([newJob()]), code("TEND_E_STORE_CLOSED"));
      await assert.rejects(
        store.jobs.claim({ queue: "q", limit: 1, workerId: "w", leaseMs: 1000 }),
        code("TEND_E_STORE_CLOSED"),
      );
      await assert.rejects(
        store.notifier.listen("jobs", () => {}),
        code("TEND_E_STORE_CLOSED"),
      );
      await store.close();
    });
  });
}
