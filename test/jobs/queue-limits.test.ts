import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatRate, parseRate, toQueueLimitsChange } from "../../src/jobs/queue-limits.ts";
import { queueAllowance } from "../../src/store/queue-limits.ts";

const none = { concurrencyLimit: null, running: 0, rateLimit: null, ratePeriodMs: null, used: 0 };

describe("queue limits (pure parts)", () => {
  it("queueAllowance: the concurrency left, and with a rate only jobs that start now", () => {
    assert.deepEqual(queueAllowance(50, 10, none), { limit: 50, start: 10 });
    assert.deepEqual(queueAllowance(50, 10, { ...none, concurrencyLimit: 4, running: 1 }), {
      limit: 3,
      start: 3,
    });
    assert.deepEqual(queueAllowance(50, 10, { ...none, concurrencyLimit: 4, running: 6 }), {
      limit: 0,
      start: 0,
    });
    assert.deepEqual(queueAllowance(50, 10, { ...none, rateLimit: 100, ratePeriodMs: 1_000, used: 0 }), {
      limit: 10,
      start: 10,
    });
    assert.deepEqual(queueAllowance(50, 10, { ...none, rateLimit: 100, ratePeriodMs: 1_000, used: 97 }), {
      limit: 3,
      start: 3,
    });
    assert.deepEqual(queueAllowance(50, 0, { ...none, rateLimit: 100, ratePeriodMs: 1_000, used: 0 }), {
      limit: 0,
      start: 0,
    });
  });

  it("parseRate and formatRate read and write <limit>/<window>", () => {
    assert.deepEqual(parseRate("10/1s"), { limit: 10, per: "1s" });
    assert.deepEqual(parseRate("10/s"), { limit: 10, per: "1s" });
    assert.deepEqual(parseRate(" 600 / 1m "), { limit: 600, per: "1m" });
    for (const bad of ["10", "/1s", "ten/1s", "0/1s", "5/soon", "5/25h", "-1/1s"])
      assert.throws(() => parseRate(bad), { code: "TEND_E_INVALID_QUEUE_LIMITS" }, bad);
    assert.equal(formatRate({ limit: 10, periodMs: 1_000 }), "10/1s");
    assert.equal(formatRate({ limit: 600, periodMs: 60_000 }), "600/1m");
    assert.equal(formatRate({ limit: 1, periodMs: 7_200_000 }), "1/2h");
    assert.equal(formatRate({ limit: 5, periodMs: 250 }), "5/250ms");
  });

  it("toQueueLimitsChange keeps left-out fields out, passes nulls, and names bad values", () => {
    assert.deepEqual(toQueueLimitsChange({}), {});
    assert.deepEqual(toQueueLimitsChange({ concurrency: null }), { concurrency: null });
    assert.deepEqual(toQueueLimitsChange({ rate: { limit: 5, per: "250ms" } }), {
      rate: { limit: 5, periodMs: 250 },
    });
    assert.throws(() => toQueueLimitsChange({ concurrency: 0 }), /got 0/);
    assert.throws(() => toQueueLimitsChange({ concurrency: Number.NaN }), /got NaN/);
    assert.throws(() => toQueueLimitsChange({ rate: { limit: 1.5, per: "1s" } }), {
      code: "TEND_E_INVALID_QUEUE_LIMITS",
    });
    assert.throws(() => toQueueLimitsChange({ rat: null } as never), { code: "TEND_E_UNKNOWN_OPTION" });
    assert.throws(() => toQueueLimitsChange(null as never), { code: "TEND_E_INVALID_QUEUE_LIMITS" });
  });
});
