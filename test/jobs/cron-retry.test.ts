import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { catchUpRetryDelayMs } from "../../src/jobs/cron-retry.ts";
import { type CronSchedule, nextWake } from "../../src/jobs/cron.ts";

describe("catchUpRetryDelayMs", () => {
  it("doubles from 1 s up to 30 s, whatever the count", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 100, 1e9, Number.MAX_SAFE_INTEGER].map(catchUpRetryDelayMs),
      [1000, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000],
    );
  });
});

describe("nextWake", () => {
  it("is the earliest tick, or for a schedule whose catch-up is pending its next try; null when none", () => {
    const a = { name: "a" } as CronSchedule;
    const b = { name: "b" } as CronSchedule;
    const next = new Map<CronSchedule, Date | null>([
      [a, new Date(5_000)],
      [b, null],
    ]);
    assert.equal(nextWake(next, new Map()), 5_000);
    // a's tick waits for its catch-up, due later.
    assert.equal(nextWake(next, new Map([[a, { at: 9_000, failures: 2 }]])), 9_000);
    // b never ticks again, but its catch-up is still to be tried.
    assert.equal(nextWake(next, new Map([[b, { at: 1_000, failures: 0 }]])), 1_000);
    assert.equal(nextWake(new Map([[b, null]]), new Map()), null);
  });
});
