import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../../src/errors/tend-error.ts";
import type { FreshStore } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { insertOne, jobError } from "./helpers.ts";

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** The jobs' activity (enqueued and finished per queue and minute) read by the dashboard. */
export function describeActivity(h: () => FreshStore): void {
  describe("activity", () => {
    it("counts enqueued, completed, discarded and cancelled jobs per queue in the window", async () => {
      const { store } = h();
      for (let i = 0; i < 5; i++) await insertOne(store, { queue: "a1", maxAttempts: 1 });
      for (let i = 0; i < 2; i++) await insertOne(store, { queue: "a2" });
      const claimed = await store.jobs.claim({ queue: "a1", limit: 3, workerId: "w", leaseMs: 30_000 });
      assert.equal(claimed.length, 3);
      const [c1, c2, c3] = claimed;
      await store.jobs.complete([
        { ...c1!, result: JSON.stringify(1) },
        { ...c2!, result: JSON.stringify(2) },
      ]);
      await store.jobs.fail([{ ...c3!, error: jobError(1), retryAt: null }]);
      const pending = await store.jobs.list({ queue: "a1", state: "available", limit: 1 });
      await store.jobs.cancel(pending[0]!.id);

      const a = await store.admin.activity();
      assert.equal(a.buckets, 60);
      assert.equal(a.bucketMs, 60_000);
      assert.ok(
        Math.abs(Date.now() - 3_600_000 - a.since.getTime()) < 10_000,
        `since ${a.since.toISOString()}`,
      );
      assert.equal(a.enqueuedFrom.getTime(), a.since.getTime(), "nothing was cut");
      assert.equal(a.finishedFrom.getTime(), a.since.getTime(), "nothing was cut");
      assert.deepEqual(
        a.queues.map((q) => q.queue),
        ["a1", "a2"],
      );
      const [a1, a2] = a.queues;
      assert.equal(a1!.enqueued.length, 60);
      assert.deepEqual(
        [sum(a1!.enqueued), sum(a1!.completed), sum(a1!.discarded), sum(a1!.cancelled)],
        [5, 2, 1, 1],
      );
      assert.deepEqual([sum(a2!.enqueued), sum(a2!.completed)], [2, 0]);
      // Everything happened just now: in the last bucket or the one before (a minute may turn).
      assert.equal(sum(a1!.enqueued.slice(58)), 5);
    });

    it("reads at most maxRows rows per series and says from when its counts are complete", async () => {
      const { store } = h();
      for (let i = 0; i < 6; i++) await insertOne(store, { queue: "cut" });
      const a = await store.admin.activity({ maxRows: 4 });
      assert.equal(sum(a.queues[0]!.enqueued), 4);
      assert.ok(a.enqueuedFrom > a.since, "the enqueued series was cut");
      assert.equal(a.finishedFrom.getTime(), a.since.getTime());
    });

    it("answers an empty store with no queue, and refuses bad options", async () => {
      const { store } = h();
      assert.deepEqual((await store.admin.activity()).queues, []);
      await assert.rejects(store.admin.activity({ buckets: 0 }), (err: unknown) =>
        isTendError(err, "TEND_E_INVALID_STORE_ARGUMENT"),
      );
      await assert.rejects(store.admin.activity({ maxRows: 1.5 }), (err: unknown) =>
        isTendError(err, "TEND_E_INVALID_STORE_ARGUMENT"),
      );
    });
  });

  describe("list: time range and text search", () => {
    it("filters on creation time, on text in payloads or errors (ASCII case folded), and on text in errors only", async () => {
      const { store } = h();
      const a = await insertOne(store, { queue: "s", payload: JSON.stringify({ to: "Alice@Example.com" }) });
      const jobA = (await store.jobs.get(a))!;
      await waitFor(() => Date.now() > jobA.createdAt.getTime() + 2, { message: "the clock moved on" });
      const b = await insertOne(store, { queue: "s", payload: JSON.stringify({ to: "bob@example.com" }) });
      const jobB = (await store.jobs.get(b))!;
      assert.ok(jobB.createdAt > jobA.createdAt, "created one after the other");
      const [lease] = await store.jobs.claim({ queue: "s", limit: 1, workerId: "w", leaseMs: 30_000 });
      assert.equal(lease?.id, a);
      await store.jobs.fail([{ ...lease!, error: jobError(1, "Connection TIMEOUT to smtp"), retryAt: null }]);

      const ids = async (f: Parameters<typeof store.jobs.list>[0]) =>
        (await store.jobs.list(f)).map((j) => j.id);
      assert.deepEqual(await ids({ text: "alice@EXAMPLE" }), [a]);
      assert.deepEqual(await ids({ text: "example.com" }), [b, a]);
      assert.deepEqual(await ids({ text: "connection timeout" }), [a], "errors are searched too");
      assert.deepEqual(await ids({ errorText: "timeout" }), [a]);
      assert.deepEqual(await ids({ errorText: "bob" }), [], "errorText never searches payloads");
      assert.deepEqual(await ids({ text: "100%_x" }), [], "no pattern characters: plain text");
      // JSON punctuation with or without its space matches alike on both drivers (PostgreSQL prints
      // jsonb with spaces, SQLite keeps the compact text), in payloads and in errors.
      assert.deepEqual(await ids({ text: '"to":"bob@' }), [b]);
      assert.deepEqual(await ids({ text: '"to": "bob@' }), [b]);
      assert.deepEqual(await ids({ errorText: '"message":"connection' }), [a]);
      assert.deepEqual(await ids({ errorText: '"message": "connection' }), [a]);
      assert.deepEqual(await ids({ createdFrom: jobB.createdAt }), [b]);
      assert.deepEqual(await ids({ createdBefore: jobB.createdAt }), [a]);
      assert.deepEqual(
        await ids({ createdFrom: jobA.createdAt, createdBefore: jobB.createdAt, queue: "s" }),
        [a],
      );

      assert.equal(await store.admin.firstIdAt(jobB.createdAt), b);
      assert.equal(await store.admin.firstIdAt(new Date(0)), a);
      assert.equal(BigInt((await store.admin.firstIdAt(new Date(Date.now() + 60_000)))!), BigInt(b) + 1n);

      for (const bad of [{ text: "" }, { text: "x".repeat(201) }, { createdFrom: new Date(Number.NaN) }])
        await assert.rejects(
          (async () => store.jobs.list(bad))(),
          (err: unknown) => isTendError(err, "TEND_E_INVALID_STORE_ARGUMENT"),
          JSON.stringify(bad),
        );
    });

    it("firstIdAt answers null on an empty table", async () => {
      const { store } = h();
      assert.equal(await store.admin.firstIdAt(new Date()), null);
    });
  });
}
