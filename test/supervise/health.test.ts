import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { judgeWorker, type ProgressView } from "../../src/supervise/health.ts";

const limits = { startTimeoutMs: 1_000, hangTimeoutMs: 500, stallTimeoutMs: 2_000 };
const view = (p: Partial<ProgressView>): ProgressView => ({
  state: "ready",
  startedAt: 0,
  lastHeartbeatAt: 0,
  inFlight: 0,
  lastCompletionAt: null,
  busySince: null,
  ...p,
});

describe("judgeWorker", () => {
  it("fails a worker not ready within the start timeout", () => {
    assert.equal(judgeWorker(view({ state: "starting", lastHeartbeatAt: null }), 900, limits).ok, true);
    const v = judgeWorker(view({ state: "starting", lastHeartbeatAt: null }), 1_001, limits);
    assert.equal(v.ok, false);
    assert.equal(!v.ok && v.problem, "start-timeout");
  });

  it("finds a hung worker by its missing heartbeats", () => {
    assert.equal(judgeWorker(view({ lastHeartbeatAt: 1_000 }), 1_500, limits).ok, true);
    const v = judgeWorker(view({ lastHeartbeatAt: 1_000 }), 1_501, limits);
    assert.equal(!v.ok && v.problem, "hung");
    assert.match(!v.ok ? v.reason : "", /event loop is blocked/);
  });

  it("finds a stalled worker: jobs in flight and no completion for the stall timeout", () => {
    const busy = view({ lastHeartbeatAt: 5_000, inFlight: 2, busySince: 3_000, lastCompletionAt: 2_500 });
    assert.equal(judgeWorker(busy, 5_000, limits).ok, true);
    const v = judgeWorker(busy, 5_001, limits);
    assert.equal(!v.ok && v.problem, "stalled");
    assert.equal(judgeWorker({ ...busy, lastCompletionAt: 4_000 }, 5_001, limits).ok, true);
    assert.equal(
      judgeWorker({ ...busy, inFlight: 0, busySince: null }, 50_000 - 1, {
        ...limits,
        hangTimeoutMs: 100_000,
      }).ok,
      true,
    );
  });

  it("leaves a stopping worker to its kill timeout: neither the hang nor the stall rule applies", () => {
    // A draining worker's other tasks (an inbox, an HTTP server) may outlast the hang timeout.
    const stopping = view({ state: "stopping", lastHeartbeatAt: 5_000, inFlight: 2, busySince: 0 });
    assert.equal(judgeWorker(stopping, 5_400, limits).ok, true);
    assert.equal(judgeWorker(stopping, 5_600, limits).ok, true);
    assert.equal(judgeWorker({ ...stopping, lastHeartbeatAt: null }, 60_000, limits).ok, true);
  });
});
