import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../src/errors/index.ts";
import { Limiter } from "../../src/lifecycle/index.ts";
import { deferred } from "./helpers.ts";

describe("Limiter", () => {
  it("never runs more than its concurrency at once, and runs everything", async () => {
    const limiter = new Limiter(3);
    let active = 0;
    let most = 0;
    const gates = Array.from({ length: 10 }, () => deferred());
    const done = gates.map((gate, i) =>
      limiter.run(async () => {
        active++;
        most = Math.max(most, active);
        await gate.promise;
        active--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(limiter.active, 3);
    assert.equal(limiter.pending, 7);
    for (const gate of gates) gate.resolve();
    assert.deepEqual(await Promise.all(done), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(most, 3);
    assert.equal(limiter.active, 0);
    assert.equal(limiter.pending, 0);
  });

  it("serves waiters first come, first served", async () => {
    const limiter = new Limiter(1);
    const release = await limiter.acquire();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) =>
      limiter.acquire().then((r) => {
        order.push(n);
        r();
      }),
    );
    release();
    await Promise.all(waits);
    assert.deepEqual(order, [1, 2, 3]);
  });

  it("a waiter whose signal aborts leaves the queue with an AbortError; the slot goes to the next", async () => {
    const limiter = new Limiter(1);
    const release = await limiter.acquire();
    const controller = new AbortController();
    const leaving = limiter.acquire(controller.signal);
    const staying = limiter.acquire();
    assert.equal(limiter.pending, 2);
    const reason = new Error("request cancelled");
    controller.abort(reason);
    await assert.rejects(leaving, (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.equal(err.name, "AbortError");
      assert.equal(err.cause, reason);
      return true;
    });
    assert.equal(limiter.pending, 1);
    release();
    const next = await staying;
    assert.equal(limiter.active, 1);
    next();
    assert.equal(limiter.active, 0);
  });

  it("rejects at once when the signal has already aborted, without taking a slot", async () => {
    const limiter = new Limiter(2);
    await assert.rejects(limiter.acquire(AbortSignal.abort()), { name: "AbortError" });
    assert.equal(limiter.active, 0);
  });

  it("a release called twice gives back one slot only", async () => {
    const limiter = new Limiter(1);
    const release = await limiter.acquire();
    const other = limiter.acquire();
    release();
    release();
    const second = await other;
    assert.equal(limiter.active, 1);
    const third = limiter.acquire();
    assert.equal(limiter.pending, 1, "the double release did not free a second slot");
    second();
    (await third)();
    assert.equal(limiter.active, 0);
  });

  it("run() gives the slot back when the function throws", async () => {
    const limiter = new Limiter(1);
    await assert.rejects(
      limiter.run(() => {
        throw new Error("nope");
      }),
      /nope/,
    );
    assert.equal(limiter.active, 0);
  });

  for (const bad of [0, -1, 1.5, Number.NaN, "2", Number.POSITIVE_INFINITY]) {
    it(`rejects concurrency ${String(bad)} with TEND_E_INVALID_CONCURRENCY`, () => {
      assert.throws(
        () => new Limiter(bad as number),
        (err: unknown) =>
          isTendError(err, "TEND_E_INVALID_CONCURRENCY") && err.message.includes("concurrency"),
      );
    });
  }
});
