import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { QueueStats } from "../../src/store/index.ts";
import {
  decideWorkerCount,
  initialScalingState,
  type ScalingSettings,
  sumQueueStats,
} from "../../src/supervise/policy.ts";

const settings: ScalingSettings = {
  jobsPerWorker: 10,
  horizonSec: 10,
  maxWaitMs: 5_000,
  scaleDownCooldownMs: 1_000,
};

function stats(partial: Partial<QueueStats> = {}): QueueStats {
  return {
    queue: "default",
    available: 0,
    running: 0,
    scheduled: 0,
    retryable: 0,
    waiting: 0,
    enqueuedPerSec: 0,
    completedPerSec: 0,
    oldestAvailableAgeMs: 0,
    ...partial,
  };
}

describe("decideWorkerCount", () => {
  it("scales up at once to what the backlog asks for, capped at max", () => {
    const d = decideWorkerCount(
      { stats: stats({ available: 45 }), current: 1, min: 1, max: 8, now: 0 },
      initialScalingState,
      settings,
    );
    assert.equal(d.desired, 5);
    assert.equal(d.reason, "backlog");
    const big = decideWorkerCount(
      { stats: stats({ available: 10_000 }), current: 1, min: 1, max: 8, now: 0 },
      initialScalingState,
      settings,
    );
    assert.equal(big.desired, 8);
  });

  it("counts the net enqueue rate over the horizon", () => {
    const d = decideWorkerCount(
      {
        stats: stats({ available: 5, enqueuedPerSec: 5, completedPerSec: 1 }),
        current: 1,
        min: 1,
        max: 8,
        now: 0,
      },
      initialScalingState,
      settings,
    );
    // 5 + (5 - 1) * 10 = 45 -> 5 workers
    assert.equal(d.desired, 5);
  });

  it("adds a worker when the oldest job waits too long even if the count looks enough", () => {
    const d = decideWorkerCount(
      { stats: stats({ available: 3, oldestAvailableAgeMs: 6_000 }), current: 2, min: 1, max: 8, now: 0 },
      initialScalingState,
      settings,
    );
    assert.equal(d.desired, 3);
    assert.equal(d.reason, "waiting");
  });

  it("adds one worker per start for a long wait, not one per call, while a worker is still starting", () => {
    const waiting = stats({ available: 3, oldestAvailableAgeMs: 6_000 });
    // The wait has already added a worker that is still starting: the count stays.
    const held = decideWorkerCount(
      { stats: waiting, current: 3, starting: 1, min: 1, max: 8, now: 0 },
      initialScalingState,
      settings,
    );
    assert.equal(held.desired, 3);
    assert.equal(held.reason, "steady");
    // Every call while it starts decides the same (no overshoot up to max, one tick at a time).
    let current = 3;
    for (let tick = 1; tick <= 10; tick++) {
      current = decideWorkerCount(
        { stats: waiting, current, starting: 1, min: 1, max: 8, now: tick * 1_000 },
        initialScalingState,
        settings,
      ).desired;
    }
    assert.equal(current, 3);
    // Once it is ready and the job still waits, the next worker is added.
    const next = decideWorkerCount(
      { stats: waiting, current: 3, starting: 0, min: 1, max: 8, now: 11_000 },
      initialScalingState,
      settings,
    );
    assert.equal(next.desired, 4);
    assert.equal(next.reason, "waiting");
    // A backlog still scales at once, starting workers or not.
    const backlog = decideWorkerCount(
      { stats: stats({ available: 45 }), current: 2, starting: 1, min: 1, max: 8, now: 0 },
      initialScalingState,
      settings,
    );
    assert.equal(backlog.desired, 5);
  });

  it("scales down one worker per cooldown, only after demand stayed low for a cooldown", () => {
    let state = initialScalingState;
    const idle = stats();
    let d = decideWorkerCount({ stats: idle, current: 4, min: 1, max: 8, now: 10_000 }, state, settings);
    assert.equal(d.desired, 4);
    assert.equal(d.reason, "cooldown");
    state = d.state;
    d = decideWorkerCount({ stats: idle, current: 4, min: 1, max: 8, now: 10_500 }, state, settings);
    assert.equal(d.desired, 4);
    state = d.state;
    d = decideWorkerCount({ stats: idle, current: 4, min: 1, max: 8, now: 11_000 }, state, settings);
    assert.equal(d.desired, 3);
    assert.equal(d.reason, "idle");
    state = d.state;
    d = decideWorkerCount({ stats: idle, current: 3, min: 1, max: 8, now: 11_200 }, state, settings);
    assert.equal(d.desired, 3, "no second step before another cooldown");
    state = d.state;
    d = decideWorkerCount({ stats: idle, current: 3, min: 1, max: 8, now: 12_000 }, state, settings);
    assert.equal(d.desired, 2);
  });

  it("resets the cooldown when demand comes back", () => {
    let d = decideWorkerCount(
      { stats: stats(), current: 4, min: 1, max: 8, now: 0 },
      initialScalingState,
      settings,
    );
    d = decideWorkerCount(
      { stats: stats({ running: 40 }), current: 4, min: 1, max: 8, now: 900 },
      d.state,
      settings,
    );
    assert.equal(d.state.lowSince, null);
    d = decideWorkerCount({ stats: stats(), current: 4, min: 1, max: 8, now: 1_100 }, d.state, settings);
    assert.equal(d.desired, 4, "the low period started again at 1,100");
  });

  it("never goes outside min and max", () => {
    for (const current of [0, 1, 3, 8, 12]) {
      for (const available of [0, 5, 50, 5_000]) {
        let state = initialScalingState;
        for (let now = 0; now < 10_000; now += 700) {
          const d = decideWorkerCount(
            { stats: stats({ available }), current, min: 2, max: 6, now },
            state,
            settings,
          );
          state = d.state;
          assert.ok(
            d.desired >= 2 && d.desired <= 6,
            `current ${current} available ${available}: ${d.desired}`,
          );
        }
      }
    }
  });

  it("stays at min when min equals max", () => {
    const d = decideWorkerCount(
      { stats: stats({ available: 500 }), current: 3, min: 3, max: 3, now: 0 },
      initialScalingState,
      settings,
    );
    assert.equal(d.desired, 3);
  });
});

describe("sumQueueStats", () => {
  it("sums the chosen queues and keeps the oldest age", () => {
    const all = [
      stats({ queue: "a", available: 3, running: 1, enqueuedPerSec: 1, oldestAvailableAgeMs: 50 }),
      stats({ queue: "b", available: 4, running: 2, enqueuedPerSec: 2, oldestAvailableAgeMs: 90 }),
      stats({ queue: "c", available: 100 }),
    ];
    const s = sumQueueStats(all, ["a", "b"]);
    assert.equal(s.available, 7);
    assert.equal(s.running, 3);
    assert.equal(s.enqueuedPerSec, 3);
    assert.equal(s.oldestAvailableAgeMs, 90);
    assert.equal(sumQueueStats(all).available, 107);
  });
});
