import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KeyQueue } from "../../src/converge/key-queue.ts";

describe("KeyQueue", () => {
  it("runs a key at most once at a time, with at most one pending run", () => {
    const q = new KeyQueue();
    assert.equal(q.offer("a", null, "sweep", 0), "queued");
    assert.equal(q.offer("a", null, "sweep", 0), "already");
    assert.deepEqual(q.take(), { key: "a", version: null, failures: 0 });
    assert.equal(q.take(), null);
    assert.equal(q.offer("a", null, "sweep", 0), "pending");
    assert.equal(q.offer("a", null, "wake", 0), "pending");
    assert.equal(q.take(), null, "not run twice at once");
    q.finish("a", { kind: "ok" }, 0);
    assert.equal(q.take()?.key, "a", "the pending run follows");
    q.finish("a", { kind: "ok" }, 0);
    assert.equal(q.take(), null, "only one pending run");
    assert.equal(q.size().tracked, 0, "idle keys are forgotten");
  });

  it("hands each run the origin of the offer that queued it (a sweep's), none to retries", () => {
    const q = new KeyQueue();
    const sweep1 = { sweep: 1 };
    const sweep2 = { sweep: 2 };
    q.offer("a", null, "sweep", 0, sweep1);
    q.offer("b", null, "wake", 0);
    assert.equal(q.offer("a", null, "sweep", 0, sweep2), "already");
    assert.deepEqual(q.take(), { key: "a", version: null, failures: 0, origin: sweep1 });
    assert.deepEqual(q.take(), { key: "b", version: null, failures: 0 }, "a wake-up has no origin");
    assert.equal(q.offer("a", null, "sweep", 0, sweep2), "pending");
    q.finish("a", { kind: "error", delayMs: 10 }, 0);
    q.finish("b", { kind: "ok" }, 0);
    assert.equal(q.due(10), 1);
    assert.deepEqual(q.take(), { key: "a", version: null, failures: 1 }, "a retry after a backoff has none");
    q.offer("a", null, "sweep", 20, sweep2);
    q.finish("a", { kind: "ok" }, 20);
    assert.deepEqual(q.take(), { key: "a", version: null, failures: 0, origin: sweep2 }, "the pending run's");
  });

  it("keys come out oldest first", () => {
    const q = new KeyQueue();
    for (const k of ["c", "a", "b"]) q.offer(k, null, "sweep", 0);
    assert.deepEqual([q.take()?.key, q.take()?.key, q.take()?.key], ["c", "a", "b"]);
  });

  it("a failing key backs off without holding up the others", () => {
    const q = new KeyQueue();
    q.offer("bad", null, "sweep", 0);
    q.offer("good", null, "sweep", 0);
    q.take();
    assert.equal(q.finish("bad", { kind: "error", delayMs: 1000 }, 0), 1);
    assert.equal(q.offer("bad", null, "sweep", 500), "waiting");
    assert.equal(q.take()?.key, "good");
    assert.equal(q.nextDueAt(), 1000);
    assert.equal(q.due(999), 0);
    assert.equal(q.due(1000), 1);
    assert.deepEqual(q.take(), { key: "bad", version: null, failures: 1 });
    assert.equal(q.finish("bad", { kind: "error", delayMs: 2000 }, 1000), 2);
    q.due(3000);
    q.take();
    assert.equal(q.finish("bad", { kind: "ok" }, 3000), 0, "success resets the failures");
  });

  it("a wake-up runs a backing-off key at once (its state changed)", () => {
    const q = new KeyQueue();
    q.offer("k", null, "sweep", 0);
    q.take();
    q.finish("k", { kind: "error", delayMs: 60_000 }, 0);
    assert.equal(q.offer("k", null, "wake", 10), "queued");
    assert.equal(q.take()?.failures, 1);
  });

  it("a terminal key is skipped until it changes: by version or by a wake-up", () => {
    const q = new KeyQueue();
    q.offer("k", "v1", "sweep", 0);
    q.take();
    q.finish("k", { kind: "terminal", message: "bad data" }, 0);
    assert.equal(q.isTerminal("k"), true);
    assert.equal(q.offer("k", "v1", "sweep", 1), "terminal");
    assert.equal(q.offer("k", null, "sweep", 1), "terminal");
    assert.equal(q.offer("k", "v2", "sweep", 1), "changed");
    q.take();
    q.finish("k", { kind: "terminal", message: "still bad" }, 2);
    assert.equal(q.offer("k", null, "wake", 3), "changed");
    assert.equal(q.isTerminal("k"), false);
  });

  it("a key found changed while its run failed terminally runs again; a terminal failure parks the version it ran", () => {
    const q = new KeyQueue();
    q.offer("k", "v1", "sweep", 0);
    assert.equal(q.take()?.version, "v1");
    assert.equal(q.offer("k", "v2", "sweep", 1), "pending", "a sweep finds v2 while v1 runs");
    q.finish("k", { kind: "terminal", message: "bad v1" }, 2);
    assert.equal(q.isTerminal("k"), false, "not parked: it changed");
    assert.equal(q.take()?.version, "v2", "it runs again at v2");
    q.finish("k", { kind: "terminal", message: "bad v2" }, 3);
    assert.equal(q.isTerminal("k"), true);
    assert.equal(q.offer("k", "v2", "sweep", 4), "terminal", "parked at v2");
    assert.equal(q.offer("k", "v3", "sweep", 5), "changed");
  });

  it("an unchanged key found by a sweep while it failed terminally stays parked under the version it ran", () => {
    const q = new KeyQueue();
    q.offer("k", "v1", "sweep", 0);
    q.take();
    assert.equal(q.offer("k", "v1", "sweep", 1), "pending");
    q.finish("k", { kind: "terminal", message: "bad" }, 2);
    assert.equal(q.isTerminal("k"), true);
    assert.equal(q.take(), null);
    assert.equal(q.offer("k", "v1", "sweep", 3), "terminal");
  });

  it("terminal keys loaded from the store are skipped", () => {
    const q = new KeyQueue();
    q.markTerminal("k", "v1", "bad");
    assert.equal(q.offer("k", "v1", "sweep", 0), "terminal");
    assert.equal(q.take(), null);
  });

  it("requeueAfter brings a key back after the delay; sweeps meanwhile do not", () => {
    const q = new KeyQueue();
    q.offer("k", null, "sweep", 0);
    q.take();
    q.finish("k", { kind: "requeue", afterMs: 5000 }, 0);
    assert.equal(q.offer("k", null, "sweep", 100), "waiting");
    assert.equal(q.take(), null);
    q.due(5000);
    assert.deepEqual(q.take(), { key: "k", version: null, failures: 0 });
  });

  it("unparks a terminal key (cleared or expired): the next offer runs it", () => {
    const q = new KeyQueue();
    q.markTerminal("k", "v1", "bad");
    q.markTerminal("j", null, "bad");
    assert.deepEqual(q.parkedKeys().sort(), ["j", "k"]);
    assert.equal(q.unpark("k"), true);
    assert.equal(q.unpark("k"), false);
    assert.equal(q.unpark("nobody"), false);
    assert.deepEqual(q.parkedKeys(), ["j"]);
    assert.equal(q.offer("k", "v1", "sweep", 0), "queued");
    assert.deepEqual(q.take(), { key: "k", version: "v1", failures: 0 });
    assert.equal(q.size().tracked, 2, "k (running) and j (parked)");
  });

  it("lists keys backing off after failures, soonest first, and a wake runs one at once", () => {
    const q = new KeyQueue();
    for (const key of ["a", "b", "c"]) q.offer(key, null, "sweep", 0);
    for (let i = 0; i < 3; i++) q.take();
    q.finish("a", { kind: "error", delayMs: 5_000 }, 0);
    q.finish("b", { kind: "error", delayMs: 1_000 }, 0);
    q.finish("c", { kind: "requeue", afterMs: 500 }, 0);
    assert.deepEqual(q.backingOff(10), [
      { key: "b", failures: 1, dueAt: 1_000 },
      { key: "a", failures: 1, dueAt: 5_000 },
    ]);
    assert.deepEqual(
      q.backingOff(1).map((k) => k.key),
      ["b"],
    );
    assert.equal(q.offer("a", null, "sweep", 10), "waiting", "a sweep does not cut a backoff short");
    assert.equal(q.offer("a", null, "wake", 10), "queued");
    assert.deepEqual(
      q.backingOff(10).map((k) => k.key),
      ["b"],
    );
    assert.deepEqual(q.take(), { key: "a", version: null, failures: 1 });
  });
});

describe("retentionMs", () => {
  it("reads a positive duration, false for forever, and refuses anything else", async () => {
    const { retentionMs } = await import("../../src/converge/retention.ts");
    assert.equal(retentionMs(undefined, "r", 5), 5);
    assert.equal(retentionMs("7d", "r", 5), 7 * 86_400_000);
    assert.equal(retentionMs(false, "r", 5), null);
    assert.throws(() => retentionMs(0, "inconsistencyRetention", 5), {
      code: "TEND_E_CONVERGER_INVALID_OPTION",
    });
    assert.throws(() => retentionMs(true as never, "r", 5), { code: "TEND_E_CONVERGER_INVALID_OPTION" });
  });
});
