import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mergeQueueInfos } from "../../src/jobs/queue-info.ts";
import { emptyQueueStats } from "../../src/store/index.ts";

describe("mergeQueueInfos", () => {
  it("merges statistics and settings by name, sorted; a queue without settings is not paused", () => {
    const at = new Date("2026-01-02T03:04:05Z");
    const merged = mergeQueueInfos(
      [{ ...emptyQueueStats("b"), available: 3 }, emptyQueueStats("c")],
      [
        { queue: "a", paused: true, changedAt: at, concurrencyLimit: null, rateLimit: null },
        { queue: "b", paused: true, changedAt: at, concurrencyLimit: null, rateLimit: null },
      ],
    );
    assert.deepEqual(
      merged.map((q) => [q.queue, q.paused, q.changedAt, q.available]),
      [
        ["a", true, at, 0],
        ["b", true, at, 3],
        ["c", false, null, 0],
      ],
    );
  });
});
