import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_KEY_BACKOFF, keyBackoffMs } from "../../src/converge/backoff.ts";
import { isEmptyChange } from "../../src/converge/changes.ts";
import { CONVERGE_CODES } from "../../src/errors/codes/converge.ts";
import { AppConvergers } from "../../src/converge/app-convergers.ts";
import { normalizeDefinition } from "../../src/converge/definition.ts";
import { lastSweepAgeMs } from "../../src/converge/metrics.ts";
import { isSameRecord, recordRetryDelayMs } from "../../src/converge/record-change.ts";
import { keyProblem, normalizeFound } from "../../src/converge/keys.ts";
import { leaseDeadline, leaseRetryMs } from "../../src/converge/lease.ts";
import { interpretOutcome } from "../../src/converge/outcome.ts";
import { isTerminalError, TerminalError } from "../../src/converge/terminal-error.ts";
import { thrownMessage } from "../../src/converge/thrown.ts";
import { decideLease, holdsLease } from "../../src/store/lease.ts";
import { toSqlitePlaceholders } from "../../src/store/sqlite/converge-sql.ts";

const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;
const base = { name: "c", find: () => [], converge: () => undefined };

describe("keyBackoffMs", () => {
  it("doubles from the base and caps at the maximum", () => {
    const mid = () => 0.5;
    assert.equal(keyBackoffMs(1, DEFAULT_KEY_BACKOFF, mid), 1000);
    assert.equal(keyBackoffMs(2, DEFAULT_KEY_BACKOFF, mid), 2000);
    assert.equal(keyBackoffMs(4, DEFAULT_KEY_BACKOFF, mid), 8000);
    assert.equal(keyBackoffMs(1000, DEFAULT_KEY_BACKOFF, mid), 300_000);
  });
  it("spreads by the jitter fraction", () => {
    assert.equal(
      keyBackoffMs(1, DEFAULT_KEY_BACKOFF, () => 0),
      800,
    );
    assert.equal(
      keyBackoffMs(1, DEFAULT_KEY_BACKOFF, () => 0.999999),
      1200,
    );
  });
});

describe("lease decisions", () => {
  it("takes a free lease with epoch 1", () => {
    assert.deepEqual(decideLease(null, "a", 1000, 100), { kind: "acquire", epoch: 1, expiresAt: 1100 });
  });
  it("renews its own live lease with the same epoch", () => {
    assert.deepEqual(decideLease({ holder: "a", epoch: 3, expiresAt: 1050 }, "a", 1000, 100), {
      kind: "renew",
      epoch: 3,
      expiresAt: 1100,
    });
  });
  it("waits for another holder's live lease", () => {
    assert.deepEqual(decideLease({ holder: "b", epoch: 3, expiresAt: 1050 }, "a", 1000, 100), {
      kind: "wait",
      holder: "b",
      expiresAt: 1050,
    });
  });
  it("takes over an expired lease with the next epoch, fencing the old holder", () => {
    const d = decideLease({ holder: "b", epoch: 3, expiresAt: 1000 }, "a", 1000, 100);
    assert.deepEqual(d, { kind: "acquire", epoch: 4, expiresAt: 1100 });
    assert.equal(holdsLease({ holder: "a", epoch: 4, expiresAt: 1100 }, "b", 3, 1001), false);
    assert.equal(holdsLease({ holder: "a", epoch: 4, expiresAt: 1100 }, "a", 4, 1001), true);
    assert.equal(holdsLease({ holder: "a", epoch: 4, expiresAt: 1100 }, "a", 4, 1100), false);
  });
  it("an expired lease of my own is retaken with a new epoch", () => {
    assert.deepEqual(decideLease({ holder: "a", epoch: 3, expiresAt: 900 }, "a", 1000, 100), {
      kind: "acquire",
      epoch: 4,
      expiresAt: 1100,
    });
  });
  it("deadlines and retry delays", () => {
    assert.equal(leaseDeadline(10_000, 15_000), 22_000);
    assert.equal(leaseDeadline(0, 100), 50);
    assert.equal(leaseRetryMs({ kind: "renew", epoch: 1, expiresAt: 0 }, 0, 15_000), 5000);
    assert.equal(leaseRetryMs({ kind: "wait", holder: "b", expiresAt: 1200 }, 1000, 15_000), 201);
    assert.equal(leaseRetryMs({ kind: "wait", holder: "b", expiresAt: 99_000 }, 1000, 15_000), 5000);
  });
});

describe("isEmptyChange", () => {
  it("treats nothing, empty arrays and objects of empties as no change", () => {
    for (const v of [undefined, null, false, 0, "", [], {}, { a: [], b: { c: null } }])
      assert.equal(isEmptyChange(v), true);
  });
  it("treats anything else as a change", () => {
    for (const v of [1, "x", [0], { a: [1] }, { a: true }, new Date()]) assert.equal(isEmptyChange(v), false);
  });
});

describe("normalizeFound", () => {
  const keys = (converger: string, found: unknown) => {
    const out = normalizeFound(converger, found);
    assert.deepEqual(out.invalid, []);
    return out.found;
  };
  it("accepts strings, numbers, bigints and { key, version }, deduplicated", () => {
    assert.deepEqual(
      keys("c", [1, "a", 2n, { key: 3, version: 7 }, 1, new Set(["x"]).values().next().value]),
      [
        { key: "1", version: null },
        { key: "a", version: null },
        { key: "2", version: null },
        { key: "3", version: "7" },
        { key: "x", version: null },
      ],
    );
    assert.deepEqual(keys("c", [{ key: "k", version: new Date(0) }]), [
      { key: "k", version: "1970-01-01T00:00:00.000Z" },
    ]);
    assert.deepEqual(keys("c", ["x".repeat(512)]), [{ key: "x".repeat(512), version: null }]);
  });
  it("throws only for a result that is not an iterable", () => {
    assert.throws(() => normalizeFound("c", "abc"), code("TEND_E_CONVERGER_INVALID_KEYS"));
    assert.throws(() => normalizeFound("c", null), code("TEND_E_CONVERGER_INVALID_KEYS"));
    assert.throws(() => normalizeFound("c", 42), code("TEND_E_CONVERGER_INVALID_KEYS"));
    assert.deepEqual(keys("c", [{ id: 7 }, { id: "8" }]), [
      { key: "7", version: null },
      { key: "8", version: null },
    ]);
  });
  it("skips each item that is not a valid key, naming the converger, the item and why; keeps the others", () => {
    const out = normalizeFound("c", [1, { id: 2, name: "two" }, 3]);
    assert.deepEqual(out.found, [
      { key: "1", version: null },
      { key: "3", version: null },
    ]);
    assert.equal(out.invalid.length, 1);
    assert.equal(out.invalid[0]?.index, 1);
    assert.equal(out.invalid[0]?.key, null);
    assert.equal(out.invalid[0]?.error.code, "TEND_E_CONVERGER_INVALID_KEYS");
    assert.match(out.invalid[0]?.error.message ?? "", /index 1/);
    assert.match(out.invalid[0]?.error.message ?? "", /"c"/);
    for (const bad of [
      null,
      Number.NaN,
      true,
      "",
      { key: {} },
      {},
      [1],
      { id: null },
      "x".repeat(513),
      10n ** 600n,
      "a\u0000b",
      "lone \ud800",
      { key: "k", version: "v".repeat(600) },
      { key: "k", version: new Date(Number.NaN) },
      { key: "k", version: "a\u0000" },
    ]) {
      const result = normalizeFound("c", ["ok", bad]);
      assert.deepEqual(result.found, [{ key: "ok", version: null }], `with ${String(bad)}`);
      assert.equal(result.invalid.length, 1);
      assert.equal(result.invalid[0]?.error.code, "TEND_E_CONVERGER_INVALID_KEYS");
    }
    const long = normalizeFound("c", ["x".repeat(600)]).invalid[0];
    assert.equal(long?.key, "x".repeat(600));
    assert.match(long?.error.message ?? "", /600 characters long; the limit is 512/);
  });
});

describe("keyProblem", () => {
  it("accepts 1-512 characters of well-formed text without U+0000", () => {
    assert.equal(keyProblem("42"), null);
    assert.equal(keyProblem("é😀"), null);
    assert.equal(keyProblem("x".repeat(512)), null);
    assert.match(keyProblem("") ?? "", /empty/);
    assert.match(keyProblem("x".repeat(513)) ?? "", /513 characters/);
    assert.match(keyProblem("a\u0000b") ?? "", /U\+0000/);
    assert.match(keyProblem("a\udc00") ?? "", /surrogate/);
  });
});

describe("thrownMessage", () => {
  it("describes anything thrown without throwing", () => {
    assert.equal(thrownMessage(new Error("boom")), "boom");
    assert.equal(thrownMessage("text"), "text");
    assert.equal(thrownMessage(null), "null");
    assert.equal(thrownMessage(undefined), "undefined");
    assert.equal(
      thrownMessage(Object.assign(Object.create(null) as object, { code: "E_X" })),
      '{"code":"E_X"}',
    );
    assert.equal(thrownMessage(Symbol("s")), "Symbol(s)");
    const bad = Object.defineProperty(new Error("x"), "message", {
      get() {
        throw new Error("no");
      },
    });
    assert.equal(typeof thrownMessage(bad), "string");
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    assert.equal(typeof thrownMessage(proxy), "string");
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
        getPrototypeOf() {
          throw new Error("trap");
        },
      },
    );
    assert.equal(typeof thrownMessage(hostile), "string");
  });
});

describe("normalizeDefinition", () => {
  it("fills defaults", () => {
    const d = normalizeDefinition(base);
    assert.equal(d.everyMs, 30_000);
    assert.equal(d.timeoutMs, 30_000);
    assert.equal(d.leaseTtlMs, 15_000);
    assert.equal(d.concurrency, 4);
    assert.equal(d.pollMs, 50);
    assert.deepEqual(d.wakeOn, []);
  });
  it("parses wakeOn entries", () => {
    const d = normalizeDefinition({ ...base, wakeOn: ["account", { table: "app.cluster", key: "id" }] });
    assert.deepEqual(d.wakeOn, [
      { schema: null, table: "account", key: null },
      { schema: "app", table: "cluster", key: "id" },
    ]);
  });
  it("rejects bad input with codes that name the value", () => {
    assert.throws(
      () => normalizeDefinition({ ...base, name: undefined }),
      code("TEND_E_CONVERGER_INVALID_NAME"),
    );
    assert.throws(
      () => normalizeDefinition({ ...base, name: "has space" }),
      code("TEND_E_CONVERGER_INVALID_NAME"),
    );
    assert.throws(() => normalizeDefinition(null), code("TEND_E_CONVERGER_INVALID_DEFINITION"));
    assert.throws(
      () => normalizeDefinition({ ...base, find: 1 }),
      (err: unknown) => {
        assert.equal((err as { code: string }).code, "TEND_E_CONVERGER_INVALID_DEFINITION");
        assert.match((err as Error).message, /find/);
        return true;
      },
    );
    assert.throws(
      () => normalizeDefinition({ ...base, every: "soon" }),
      code("TEND_E_CONVERGER_INVALID_OPTION"),
    );
    assert.throws(
      () => normalizeDefinition({ ...base, timeout: 0 }),
      code("TEND_E_CONVERGER_INVALID_OPTION"),
    );
    assert.throws(
      () => normalizeDefinition({ ...base, concurrency: 0 }),
      code("TEND_E_CONVERGER_INVALID_OPTION"),
    );
    assert.throws(
      () => normalizeDefinition({ ...base, wakeOn: ["Account; drop"] }),
      code("TEND_E_CONVERGER_INVALID_WAKE"),
    );
    assert.throws(
      () => normalizeDefinition({ ...base, wakeOn: [{ table: "a", key: "x y" }] }),
      code("TEND_E_CONVERGER_INVALID_WAKE"),
    );
    assert.throws(
      () => normalizeDefinition({ ...base, wakeOn: "account" }),
      code("TEND_E_CONVERGER_INVALID_WAKE"),
    );
  });
});

describe("converger option bounds", () => {
  it("rejects durations under their minimum and holder ids that are not non-blank strings, naming the value and what was expected", () => {
    const invalid = (pattern: RegExp) => (err: unknown) => {
      assert.equal((err as { code?: string }).code, "TEND_E_CONVERGER_INVALID_OPTION");
      assert.match((err as Error).message, pattern);
      return true;
    };
    assert.throws(
      () => normalizeDefinition({ ...base, leaseTtl: "1ms" }),
      invalid(/leaseTtl.*"1ms".*at least 1s/),
    );
    assert.throws(() => normalizeDefinition({ ...base, leaseTtl: 999 }), invalid(/leaseTtl/));
    assert.throws(() => normalizeDefinition({ ...base, every: 1 }), invalid(/every.*at least 10ms/));
    assert.throws(
      () => normalizeDefinition({ ...base, pollInterval: 0.01 }),
      invalid(/pollInterval.*at least 10ms/),
    );
    const d = normalizeDefinition({ ...base, leaseTtl: "1s", every: "10ms", pollInterval: 10 });
    assert.deepEqual([d.leaseTtlMs, d.everyMs, d.pollMs], [1000, 10, 10]);
    assert.throws(() => new AppConvergers({ holderId: {} as never }), invalid(/holderId.*non-blank string/));
    assert.throws(() => new AppConvergers({ holderId: "" }), invalid(/holderId/));
    assert.throws(() => new AppConvergers({ holderId: "a\nb" }), invalid(/holderId/));
    assert.throws(() => new AppConvergers(null as never), invalid(/convergers options/));
    assert.equal(new AppConvergers({ holderId: "web-1:42" }).size, 0);
  });
});

describe("lastSweepAgeMs", () => {
  it("counts from the last successful sweep, else from when this process first led, else is absent", () => {
    assert.equal(lastSweepAgeMs({ lastSweepAt: 5_000, firstLedAt: 1_000 }, 8_000), 3_000);
    assert.equal(lastSweepAgeMs({ lastSweepAt: null, firstLedAt: 1_000 }, 61_000), 60_000);
    assert.equal(lastSweepAgeMs({ lastSweepAt: null, firstLedAt: null }, 61_000), null);
  });
});

describe("recording retries", () => {
  it("waits 100 ms doubling up to 5 s", () => {
    assert.deepEqual([1, 2, 3, 7, 50].map(recordRetryDelayMs), [100, 200, 400, 5000, 5000]);
  });
  it("recognises the failed write's own row by holder, epoch and changes (keys in any order)", () => {
    const row = {
      id: "1",
      converger: "c",
      key: "k",
      changes: { b: 2, a: [1] },
      at: new Date(0),
      holder: "h",
      epoch: 3,
    };
    assert.equal(isSameRecord(row, { holder: "h", epoch: 3 }, { a: [1], b: 2 }), true);
    assert.equal(isSameRecord(row, { holder: "h", epoch: 4 }, { a: [1], b: 2 }), false);
    assert.equal(isSameRecord(row, { holder: "h", epoch: 3 }, { a: [2], b: 2 }), false);
    assert.equal(isSameRecord({ ...row, holder: null, epoch: null }, null, { a: [1], b: 2 }), true);
  });
});

describe("interpretOutcome", () => {
  it("reads nothing, changes and requeueAfter", () => {
    assert.deepEqual(interpretOutcome("c", undefined), { changed: null, requeueAfterMs: null });
    assert.deepEqual(interpretOutcome("c", { changed: { a: [] } }), { changed: null, requeueAfterMs: null });
    assert.deepEqual(interpretOutcome("c", { changed: [1], requeueAfter: "5s" }), {
      changed: [1],
      requeueAfterMs: 5000,
    });
  });
  it("rejects what it cannot read", () => {
    assert.throws(() => interpretOutcome("c", [1]), code("TEND_E_CONVERGER_INVALID_RESULT"));
    assert.throws(() => interpretOutcome("c", { archived: 1 }), code("TEND_E_CONVERGER_INVALID_RESULT"));
    assert.throws(
      () => interpretOutcome("c", { requeueAfter: "later" }),
      code("TEND_E_CONVERGER_INVALID_RESULT"),
    );
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    assert.throws(() => interpretOutcome("c", { changed: cyclic }), code("TEND_E_CONVERGER_INVALID_RESULT"));
  });
  it("rejects a change with no JSON form (JSON.stringify returns undefined)", () => {
    for (const changed of [Symbol("x"), () => 1, { toJSON: () => undefined }]) {
      assert.throws(() => interpretOutcome("c", { changed }), code("TEND_E_CONVERGER_INVALID_RESULT"));
    }
    // Inside a value, JSON writes what has no form as null or leaves it out: that is recordable.
    assert.equal(Array.isArray(interpretOutcome("c", { changed: [Symbol("x")] }).changed), true);
  });
});

describe("TerminalError", () => {
  it("is recognised, also by its marker", () => {
    assert.equal(isTerminalError(new TerminalError("x")), true);
    assert.equal(isTerminalError(Object.assign(new Error("x"), { terminal: true })), true);
    assert.equal(isTerminalError(new Error("x")), false);
  });
});

describe("toSqlitePlaceholders", () => {
  it("rewrites $n outside strings and comments", () => {
    assert.equal(
      toSqlitePlaceholders(`SELECT '$1', "$2" FROM t WHERE a = $1 AND b = $12 -- $3\nAND c = $2`),
      `SELECT '$1', "$2" FROM t WHERE a = ?1 AND b = ?12 -- $3\nAND c = ?2`,
    );
  });
});

describe("codes", () => {
  it("every converge code is documented in one line and starts with TEND_E_CONVERGER_", () => {
    for (const [k, v] of Object.entries(CONVERGE_CODES)) {
      assert.match(k, /^TEND_E_CONVERGER_[A-Z_]+$/);
      assert.ok(v.length > 10 && !v.includes("\n"));
    }
  });
});
