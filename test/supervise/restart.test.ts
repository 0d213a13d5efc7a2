import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  blameFor,
  DEFAULT_RESTART,
  nextFailureCount,
  RestartBook,
  recordRestart,
  restartDelayMs,
} from "../../src/supervise/restart.ts";

describe("restart backoff", () => {
  const s = { ...DEFAULT_RESTART, backoffBaseMs: 100, backoffMaxMs: 1_000, jitter: 0.5 };

  it("replaces a first crash at once, then doubles up to the cap", () => {
    assert.equal(
      restartDelayMs(1, s, () => 1),
      0,
    );
    assert.equal(
      restartDelayMs(2, s, () => 1),
      100,
    );
    assert.equal(
      restartDelayMs(3, s, () => 1),
      200,
    );
    assert.equal(
      restartDelayMs(4, s, () => 1),
      400,
    );
    assert.equal(
      restartDelayMs(10, s, () => 1),
      1_000,
    );
    assert.equal(
      restartDelayMs(1_000, s, () => 1),
      1_000,
    );
  });

  it("jitters within [1 - jitter, 1] of the delay", () => {
    assert.equal(
      restartDelayMs(3, s, () => 0),
      100,
    );
    for (let i = 0; i < 100; i++) {
      const d = restartDelayMs(3, s);
      assert.ok(d >= 100 && d <= 200, String(d));
    }
  });

  it("resets the failure count after a stable uptime", () => {
    assert.equal(nextFailureCount(0, 10, s), 1);
    assert.equal(nextFailureCount(4, 10, s), 5);
    assert.equal(nextFailureCount(4, s.stableUptimeMs, s), 1);
  });
});

describe("restart intensity", () => {
  const limits = { maxRestarts: 3, periodMs: 1_000 };

  it("allows R restarts within T and is exceeded by the next one", () => {
    let history: number[] = [];
    for (const t of [0, 100, 200]) {
      const r = recordRestart(history, t, limits);
      assert.equal(r.exceeded, false);
      history = r.history;
    }
    assert.equal(recordRestart(history, 300, limits).exceeded, true);
  });

  it("forgets restarts older than the window", () => {
    let history: number[] = [];
    for (const t of [0, 100, 200]) history = recordRestart(history, t, limits).history;
    const r = recordRestart(history, 1_150, limits);
    assert.equal(r.exceeded, false);
    assert.deepEqual(r.history, [200, 1_150]);
  });
});

describe("RestartBook", () => {
  const settings = {
    ...DEFAULT_RESTART,
    backoffBaseMs: 100,
    jitter: 0,
    maxRestarts: 2,
    periodMs: 1_000,
    stableUptimeMs: 500,
  };

  it("replaces a first failure at once, backs off consecutive ones, and counts per slot", () => {
    const book = new RestartBook(settings);
    assert.deepEqual(book.record(1_000, 10, 0), { exceeded: false, notBefore: 1_000 });
    assert.deepEqual(book.record(1_050, 10, 0), { exceeded: false, notBefore: 1_150 });
    assert.equal(book.forSlot(0), 2);
    assert.equal(book.forSlot(1), 0);
    assert.equal(book.total, 2);
    assert.equal(book.record(1_100, 10, 1).exceeded, true, "a third restart within 1 s exceeds 2");
    assert.equal(book.inWindow(1_100), 3);
    assert.equal(book.inWindow(2_060), 1);
  });

  it("resets the backoff after a stable worker dies", () => {
    const book = new RestartBook({ ...settings, maxRestarts: 10 });
    book.record(0, 10, 0);
    book.record(10, 10, 0);
    assert.equal(book.record(5_000, 600, 0).notBefore, 5_000);
  });

  it("counts job faults in the totals but neither in the intensity window nor in the backoff", () => {
    const book = new RestartBook(settings);
    for (let i = 0; i < 5; i++) book.recordJobFault(0);
    assert.equal(book.total, 5);
    assert.equal(book.jobFaults, 5);
    assert.equal(book.forSlot(0), 5);
    assert.equal(book.inWindow(1_000), 0);
    assert.deepEqual(
      book.record(1_000, 10, 0),
      { exceeded: false, notBefore: 1_000 },
      "still a first failure",
    );
  });
});

describe("blameFor", () => {
  it("blames kills of workers running jobs on the jobs", () => {
    assert.equal(blameFor({ killedFor: "hung", rescued: 1, inFlight: 1 }), "jobs");
    assert.equal(blameFor({ killedFor: "stalled", rescued: 2, inFlight: 2 }), "jobs");
    // Rescued by lease expiry elsewhere, or the rescue failed: the heartbeat said jobs were running.
    assert.equal(blameFor({ killedFor: "hung", rescued: 0, inFlight: 1 }), "jobs");
    assert.equal(blameFor({ killedFor: "hung", rescued: null, inFlight: 1 }), "jobs");
    // A job that blocked the worker before its first heartbeat.
    assert.equal(blameFor({ killedFor: "start-timeout", rescued: 1, inFlight: 0 }), "jobs");
  });

  it("blames everything else on the worker", () => {
    assert.equal(blameFor({ killedFor: null, rescued: 3, inFlight: 3 }), "worker", "a crash on its own");
    assert.equal(blameFor({ killedFor: "hung", rescued: 0, inFlight: 0 }), "worker", "a hang without jobs");
    assert.equal(blameFor({ killedFor: "start-timeout", rescued: 0, inFlight: 0 }), "worker");
    assert.equal(blameFor({ killedFor: "start-timeout", rescued: null, inFlight: 0 }), "worker");
  });
});
