import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backlogSeries } from "../../src/http/api/activity.ts";
import { windowFilter } from "../../src/http/api/list-page.ts";
import { lineChart, polylinePoints } from "../../src/http/ui/chart.ts";
import { activityOptions, bucketActivity } from "../../src/store/activity-model.ts";
import type { ListFilter } from "../../src/store/index.ts";
import { bulkParts, FINAL_PREDICATE, PENDING_PREDICATE } from "../../src/store/bulk-parts.ts";
import { sampleWindows, scaleCounts } from "../../src/store/state-counts.ts";

describe("the overview's last hour: pure parts", () => {
  const o = { buckets: 3, bucketMs: 60_000, maxRows: 100 };
  const now = 1_000_000_000;

  it("counts rows into buckets ending now, by queue and final state; ignores rows outside", () => {
    const a = bucketActivity(
      [
        { queue: "b", state: null, at: now - 10 },
        { queue: "b", state: null, at: now + 5 },
        { queue: "a", state: null, at: now - 130_000 },
        { queue: "a", state: null, at: now - 200_000 },
      ],
      [
        { queue: "a", state: "completed", at: now - 70_000 },
        { queue: "a", state: "discarded", at: now - 1 },
        { queue: "a", state: "cancelled", at: now - 1 },
      ],
      now,
      o,
    );
    assert.equal(a.since.getTime(), now - 180_000);
    assert.deepEqual(
      a.queues.map((q) => [q.queue, q.enqueued, q.completed, q.discarded, q.cancelled]),
      [
        ["a", [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]],
        ["b", [0, 0, 2], [0, 0, 0], [0, 0, 0], [0, 0, 0]],
      ],
    );
    assert.equal(a.enqueuedFrom.getTime(), a.since.getTime());
  });

  it("a series cut at maxRows is complete from its oldest row", () => {
    const rows = [0, 1, 2].map((i) => ({ queue: "q", state: null, at: now - i * 1000 }));
    const a = bucketActivity(rows, [], now, { ...o, maxRows: 3 });
    assert.equal(a.enqueuedFrom.getTime(), now - 2000);
    assert.equal(a.finishedFrom.getTime(), a.since.getTime());
  });

  it("checks options", () => {
    assert.deepEqual(activityOptions(), { buckets: 60, bucketMs: 60_000, maxRows: 20_000 });
    assert.throws(() => activityOptions({ bucketMs: 10 }), { code: "TEND_E_INVALID_STORE_ARGUMENT" });
  });

  it("estimates the backlog backwards from now", () => {
    const q = {
      queue: "q",
      enqueued: [4, 5, 0],
      completed: [0, 2, 3],
      discarded: [0, 0, 1],
      cancelled: [0, 0, 0],
    };
    // now 6; before the last minute 6 + 3 + 1 = 10; before the middle one 10 - 5 + 2 = 7.
    assert.deepEqual(backlogSeries(6, q), [7, 10, 6]);
    assert.deepEqual(backlogSeries(0, { ...q, enqueued: [0, 0, 0] }), [6, 4, 0]);
  });

  it("draws charts as inline SVG with escaped text and one scale", () => {
    assert.equal(polylinePoints([0, 5, 10], 100, 10, 10), "0.0,10.0 50.0,5.0 100.0,0.0");
    assert.equal(polylinePoints([0, 0], 100, 10, 0), "0.0,10.0 100.0,10.0");
    const svg = lineChart([{ values: [1, 2], className: "c-enq", label: "enqueued" }], '<q>"x"').text;
    assert.ok(svg.includes("&lt;q&gt;&quot;x&quot;"), svg);
    assert.ok(!svg.includes("<q>"), svg);
    assert.ok(!/style=/.test(svg), "no style attribute (strict CSP)");
  });

  it("filtered pages bound their window on both ends", () => {
    assert.deepEqual(windowFilter({ state: "discarded", limit: 5 }, 100_000n, 20_000), {
      state: "discarded",
      limit: 5,
      beforeId: "100000",
      fromId: "80000",
    });
    assert.equal(windowFilter<ListFilter>({ kind: "k" }, 50n, 20_000).fromId, "1");
  });

  it("bulk counts split states by the partial index holding them", () => {
    assert.deepEqual(bulkParts(["scheduled", "completed", "retryable", "waiting"]), [
      { predicate: PENDING_PREDICATE, viaDependencies: false, states: ["scheduled", "retryable"] },
      { predicate: FINAL_PREDICATE, viaDependencies: false, states: ["completed"] },
      { predicate: null, viaDependencies: true, states: ["waiting"] },
    ]);
    assert.deepEqual(bulkParts(["running"]), [
      { predicate: null, viaDependencies: false, states: ["running"] },
    ]);
  });
});

describe("state counts sampling (pure)", () => {
  it("reads the whole id span when small, else 20 even windows within it, and scales what they saw", () => {
    assert.deepEqual(sampleWindows(5, 104, 1_000), [[5, 104]]);
    const windows = sampleWindows(1, 1_000_000, 20_000);
    assert.equal(windows.length, 20);
    for (const [a, b] of windows) {
      assert.equal(b - a + 1, 1_000);
      assert.ok(a >= 1 && b <= 1_000_000);
    }
    assert.ok(windows[0]![0] < 50_000 && windows[19]![1] > 950_000, "spread over the whole span");
    const scaled = scaleCounts(
      [
        { queue: "q", state: "completed", count: 18_000 },
        { queue: "q", state: "available", count: 1_000 },
      ],
      windows,
      1,
      1_000_000,
    );
    assert.equal(scaled.exact, false);
    assert.equal(scaled.sampledRows, 19_000);
    assert.deepEqual(
      scaled.counts.map((c) => [c.state, c.count]),
      [
        ["available", 50_000],
        ["completed", 900_000],
      ],
    );
    assert.equal(scaleCounts([], [[1, 10]], 1, 10).exact, true);
  });
});
