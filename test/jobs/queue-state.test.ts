import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextWindowAt, QueueState, RATE_MEMORY_MS, WINDOW_SLACK_MS } from "../../src/jobs/queue-state.ts";
import type { ClaimedJob } from "../../src/store/index.ts";

function job(i: number): ClaimedJob {
  return {
    id: String(i),
    kind: "k",
    queue: "q",
    payload: null,
    attempt: 1,
    maxAttempts: 3,
    leaseToken: `t${i}`,
    started: false,
    runAt: new Date(0),
    traceContext: null,
  };
}

/** A queue state holding `buffered` claimed-ahead jobs, `running` handlers and `unwritten` outcomes. */
function state(
  concurrency: number,
  prefetch: number,
  held: { buffered?: number; running?: number; unwritten?: number } = {},
): QueueState {
  const q = new QueueState("q", concurrency, prefetch);
  const buffered = held.buffered ?? 0;
  for (let i = 0; i < buffered; i++) q.buffer.push(job(i));
  q.running = held.running ?? 0;
  q.held = buffered + q.running + (held.unwritten ?? 0);
  return q;
}

describe("QueueState.claimSize (the claim decision)", () => {
  it("claims free slots only when nothing is prefetched", () => {
    assert.equal(state(10, 0).claimSize(), 10);
    assert.equal(state(10, 0, { running: 7 }).claimSize(), 3);
    assert.equal(state(10, 0, { running: 10 }).claimSize(), 0);
  });

  it("refills the buffer only once it is down to a tenth of the prefetch depth, then in bulk", () => {
    assert.equal(state(50, 500, { buffered: 51, running: 50 }).claimSize(), 0, "buffer above a tenth");
    assert.equal(state(50, 500, { buffered: 50, running: 50 }).claimSize(), 450, "refill to the depth");
    assert.equal(state(50, 500).claimSize(), 550, "free slots plus the depth");
  });

  it("never holds more than three claims' worth, counting outcomes not yet written", () => {
    const q = state(50, 500, { running: 50, unwritten: 1_500 });
    assert.equal(q.maxHeld, 1_650);
    assert.equal(q.claimSize(), 100);
    assert.equal(state(50, 500, { running: 50, unwritten: 1_600 }).claimSize(), 0);
  });

  it("claims nothing from a drained queue until a wake-up says there may be more", () => {
    const q = state(10, 0);
    q.drained = true;
    q.notified = false;
    assert.equal(q.claimSize(), 0);
    q.wake(true);
    assert.equal(q.claimSize(), 10);
  });
});

describe("QueueState.afterClaim (adaptive claim-ahead, no prefetch configured)", () => {
  /** Sends a claim with `running` handlers busy after `finished` returned, and gets `got` of `asked`. */
  function claim(q: QueueState, o: { running: number; finished: number; asked: number; got: number }): void {
    q.running = o.running;
    q.finished = o.finished;
    q.beforeClaim();
    q.afterClaim(o.asked, o.got);
  }

  it("doubles the depth while full claims find short jobs' slots idle, up to ten times the concurrency", () => {
    const q = new QueueState("q", 50, null);
    assert.equal(q.prefetch, 0);
    assert.equal(q.claimSize(), 50, "at first, free slots only");
    claim(q, { running: 0, finished: 0, asked: 50, got: 50 });
    assert.equal(q.prefetch, 0, "the first claim: no handler has returned yet");
    claim(q, { running: 0, finished: 50, asked: 50, got: 50 });
    assert.equal(q.prefetch, 50, "grows to the concurrency first");
    for (const expected of [100, 200, 400, 500, 500]) {
      claim(q, { running: 10, finished: 50, asked: 100, got: 100 });
      assert.equal(q.prefetch, expected);
    }
  });

  it("grows when a claim sent with busy slots comes back after the buffer ran dry", () => {
    const q = new QueueState("q", 50, null);
    q.prefetch = 100;
    q.running = 50;
    q.finished = 5;
    q.beforeClaim();
    q.running = 10; // handlers returned while the claim was in flight, and nothing was buffered
    q.finished = 40;
    q.afterClaim(100, 100);
    assert.equal(q.prefetch, 200);
  });

  it("does not grow for slow jobs, halves when a claim comes back short, and never changes a configured prefetch", () => {
    const q = new QueueState("q", 50, null);
    claim(q, { running: 49, finished: 1, asked: 1, got: 1 });
    assert.equal(q.prefetch, 0, "one slot at a time: slow jobs");
    q.prefetch = 400;
    claim(q, { running: 50, finished: 3, asked: 400, got: 400 });
    assert.equal(q.prefetch, 400, "slots were busy");
    claim(q, { running: 50, finished: 3, asked: 400, got: 12 });
    assert.equal(q.prefetch, 200);
    claim(q, { running: 0, finished: 50, asked: 250, got: 0 });
    assert.equal(q.prefetch, 100);
    const fixed = state(50, 0);
    claim(fixed, { running: 0, finished: 50, asked: 50, got: 50 });
    assert.equal(fixed.prefetch, 0);
  });
});

describe("QueueState.pollAfterDrain (polls aligned to rate windows)", () => {
  it("polls one interval later while no rate-limited job was claimed", () => {
    const q = state(10, 0);
    assert.equal(q.pollAfterDrain(10_300, 1_000), 11_300);
    q.noteClaimed([job(1)], 10_300);
    assert.equal(q.pollAfterDrain(10_300, 1_000), 11_300);
  });

  it("polls just after the next window opens while rate-limited jobs were claimed lately", () => {
    const q = state(10, 0);
    q.noteClaimed([{ ...job(1), ratePeriodMs: 1_000 }], 10_300);
    assert.equal(nextWindowAt(10_300, 1_000), 11_000 + WINDOW_SLACK_MS);
    assert.equal(q.pollAfterDrain(10_300, 1_000), 11_000 + WINDOW_SLACK_MS);
    // Never later than the poll interval (a window longer than it).
    q.noteClaimed([{ ...job(2), ratePeriodMs: 60_000 }], 10_400);
    assert.equal(q.pollAfterDrain(10_400, 1_000), 11_000 + WINDOW_SLACK_MS, "the shortest window is kept");
    const long = state(10, 0);
    long.noteClaimed([{ ...job(3), ratePeriodMs: 60_000 }], 10_400);
    assert.equal(long.pollAfterDrain(10_400, 1_000), 11_400);
    // At a window's very start the poll still waits the slack.
    assert.equal(nextWindowAt(12_000, 1_000), 13_000 + WINDOW_SLACK_MS);
    assert.equal(nextWindowAt(12_999, 1_000), 13_000 + WINDOW_SLACK_MS);
    assert.equal(nextWindowAt(12_999, 1), 13_000 + WINDOW_SLACK_MS);
  });

  it("forgets the windows a minute after the last rate-limited claim", () => {
    const q = state(10, 0);
    q.noteClaimed([{ ...job(1), ratePeriodMs: 1_000 }], 10_300);
    const later = 10_300 + RATE_MEMORY_MS + 1;
    assert.equal(q.pollAfterDrain(later, 1_000), later + 1_000);
  });
});

describe("QueueState.waitForWake (the fallback poll)", () => {
  it("keeps one poll timer across wake-ups: a later wait ends at the earlier poll, as notified", async () => {
    const q = state(10, 0);
    q.notified = false;
    q.dirty = false;
    const armedAt = Date.now();
    const first = q.waitForWake(40);
    q.wake(false);
    await first;
    assert.equal(q.notified, false, "a plain wake-up is not a poll");
    q.dirty = false;
    // A wait asking for a poll far later ends when the timer already set fires.
    await q.waitForWake(60_000);
    assert.equal(q.notified, true, "the poll counts as notified");
    assert.ok(Date.now() - armedAt < 30_000, "ended by the first timer, not a new one");
    assert.equal(q.pollScheduled, false);
  });

  it("re-arms a nearer poll, and stopPolling leaves no timer behind", async () => {
    const q = state(10, 0);
    q.notified = false;
    q.dirty = false;
    const far = q.waitForWake(60_000);
    q.wake(false);
    await far;
    q.dirty = false;
    const startedAt = Date.now();
    await q.waitForWake(20);
    assert.equal(q.notified, true);
    assert.ok(Date.now() - startedAt < 30_000, "the nearer poll fired, not the far one");
    q.dirty = false;
    assert.equal(q.pollScheduled, false, "a fired poll leaves no timer");
    const again = q.waitForWake(60_000);
    assert.equal(q.pollScheduled, true);
    q.stopPolling();
    assert.equal(q.pollScheduled, false);
    q.wake(false);
    await again;
  });
});
