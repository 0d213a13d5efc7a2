import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../src/errors/tend-error.ts";
import { Jobs } from "../../src/jobs/index.ts";
import { createLogger } from "../../src/log/logger.ts";
import { roundRobin } from "../../src/store/sqlite/limited-claim.ts";

const log = createLogger({ level: "silent", pretty: false });
const invalid = (e: unknown) => isTendError(e, "TEND_E_INVALID_JOB_OPTIONS");

/** A Jobs whose store is never reached: every case here fails before it. */
function jobs(): Jobs {
  return new Jobs(async () => assert.fail("the store is not reached on bad input"), { log });
}

describe("concurrency key options", () => {
  it("rejects bad limits and keys at define and at enqueue, naming the value", async () => {
    const j = jobs();
    for (const concurrencyLimit of [0, -1, 1.5, 10_001, "2"]) {
      assert.throws(
        () => j.define("k.limit", () => {}, { concurrencyLimit: concurrencyLimit as number }),
        invalid,
      );
      await assert.rejects(
        j.enqueue("x", {}, { concurrencyKey: "a", concurrencyLimit: concurrencyLimit as number }),
        invalid,
      );
    }
    for (const concurrencyKey of ["", "x".repeat(513), "a\u0000b", "\ud800", 7]) {
      assert.throws(() => j.define(`k.key`, () => {}, { concurrencyKey: concurrencyKey as string }), invalid);
      await assert.rejects(j.enqueue("x", {}, { concurrencyKey: concurrencyKey as string }), invalid);
    }
  });

  it("fails the enqueue when the kind's key function throws or returns a non-key, naming the kind", async () => {
    const j = jobs();
    j.define("by.tenant", () => {}, {
      concurrencyKey: (p: { tenant?: unknown }) => p.tenant as string,
      concurrencyLimit: 2,
    });
    j.define("throws", () => {}, {
      concurrencyKey: () => {
        throw new Error("no tenant");
      },
    });
    await assert.rejects(
      j.enqueue("by.tenant", { tenant: 42 }),
      (e: unknown) => invalid(e) && /by\.tenant/.test((e as Error).message),
    );
    await assert.rejects(j.enqueue("by.tenant", {}), invalid);
    await assert.rejects(
      j.enqueue("throws", {}),
      (e: unknown) => invalid(e) && /no tenant/.test((e as Error).message),
    );
  });
});

describe("rate limit options", () => {
  it("rejects a negative or zero limit, a bad window and a misspelt key, at define and at enqueue", async () => {
    const j = jobs();
    for (const rateLimit of [
      { limit: -1, per: "1s" },
      { limit: 0, per: "1s" },
      { limit: 1.5, per: "1s" },
      { limit: 10, per: "0s" },
      { limit: 10, per: "2d" },
      { limit: 10, per: "soon" },
      { limit: 10 },
      null,
      "10/s",
    ]) {
      assert.throws(() => j.define("r.kind", () => {}, { rateLimit: rateLimit as never }), invalid);
      await assert.rejects(j.enqueue("x", {}, { rateLimit: rateLimit as never }), invalid);
    }
    const unknown = (e: unknown) => isTendError(e, "TEND_E_UNKNOWN_OPTION") && /perSecond/.test(String(e));
    assert.throws(
      () => j.define("r.kind", () => {}, { rateLimit: { limit: 1, per: "1s", perSecond: 1 } as never }),
      unknown,
    );
  });
});

describe("roundRobin", () => {
  it("orders one job of every key before a second of any, then by priority, run_at, id", () => {
    const order = roundRobin([
      { id: 1, priority: 0, runAt: 1, rank: 1 },
      { id: 2, priority: 0, runAt: 2, rank: 2 },
      { id: 3, priority: 0, runAt: 3, rank: 3 },
      { id: 9, priority: 0, runAt: 50, rank: 1 },
      { id: 8, priority: -1, runAt: 60, rank: 1 },
      { id: 7, priority: 0, runAt: 70, rank: 2 },
    ]).map((c) => c.id);
    assert.deepEqual(order, [8, 1, 9, 2, 7, 3]);
  });
});

describe("presence option", () => {
  it("accepts false or a duration; a bad value's error names both forms", () => {
    for (const presence of [false, "5s", 1_000] as const)
      assert.ok(new Jobs(async () => assert.fail(), { log, presence }));
    for (const presence of [true, 0, -5, "soon", "1000d"]) {
      assert.throws(
        () => new Jobs(async () => assert.fail(), { log, presence: presence as never }),
        (e: unknown) =>
          isTendError(e, "TEND_E_INVALID_JOB_OPTIONS") &&
          /presence/.test((e as Error).message) &&
          /false \(no process registry row\), or a positive duration/.test((e as Error).message),
      );
    }
  });
});
