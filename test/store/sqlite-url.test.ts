import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../src/errors/tend-error.ts";
import { firstTrue } from "../../src/store/sqlite/stats.ts";
import { isValidTablePrefix, parseSqliteUrl } from "../../src/store/sqlite/url.ts";

describe("parseSqliteUrl", () => {
  it("resolves relative, absolute and triple-slash paths", () => {
    assert.deepEqual(parseSqliteUrl("sqlite:./var/tend.db", "/srv/app"), {
      path: "/srv/app/var/tend.db",
      synchronous: "FULL",
      pollMs: 25,
    });
    assert.equal(parseSqliteUrl("sqlite:var/x.db", "/srv/app").path, "/srv/app/var/x.db");
    assert.equal(parseSqliteUrl("sqlite:/abs/path.db", "/srv").path, "/abs/path.db");
    assert.equal(parseSqliteUrl("sqlite:///abs/path.db", "/srv").path, "/abs/path.db");
    assert.equal(parseSqliteUrl("sqlite:/abs/../other/p.db", "/srv").path, "/other/p.db");
    assert.equal(parseSqliteUrl("sqlite::memory:").path, ":memory:");
  });

  it("reads synchronous and poll options", () => {
    assert.equal(parseSqliteUrl("sqlite:/a.db?synchronous=normal").synchronous, "NORMAL");
    assert.equal(parseSqliteUrl("sqlite:/a.db?synchronous=FULL").synchronous, "FULL");
    assert.equal(parseSqliteUrl("sqlite:/a.db?poll=100ms").pollMs, 100);
    assert.equal(parseSqliteUrl("sqlite:/a.db?poll=2s&synchronous=normal").pollMs, 2000);
  });

  it("rejects other schemes, hosts, empty paths and unknown or bad options with stable codes", () => {
    for (const bad of ["postgres://x/y", "sqlite:", "sqlite://host/db.sqlite", "sqlite:?poll=1ms"]) {
      assert.throws(
        () => parseSqliteUrl(bad),
        (e: unknown) => isTendError(e, "TEND_E_INVALID_DATABASE_URL"),
        bad,
      );
    }
    for (const bad of [
      "sqlite:/a.db?synchronous=off",
      "sqlite:/a.db?poll=0ms",
      "sqlite:/a.db?poll=soon",
      "sqlite:/a.db?mode=ro",
    ]) {
      assert.throws(
        () => parseSqliteUrl(bad),
        (e: unknown) => isTendError(e, "TEND_E_INVALID_SQLITE_OPTION"),
        bad,
      );
    }
  });
});

describe("the poll option of an SQLite URL", () => {
  it("reads any duration, a bare number as ms; rejects zero, negatives, junk and over an hour", () => {
    const poll = (text: string) => parseSqliteUrl(`sqlite:/a.db?poll=${encodeURIComponent(text)}`).pollMs;
    assert.equal(poll("25ms"), 25);
    assert.equal(poll("25"), 25);
    assert.equal(poll("1.5s"), 1500);
    assert.equal(poll("1h"), 3_600_000);
    assert.equal(poll("0.4"), 1, "a timer runs on whole milliseconds");
    for (const bad of ["0", "-5ms", "abc", "2h", "3600001", ""]) {
      assert.throws(
        () => poll(bad),
        (e: unknown) =>
          isTendError(e, "TEND_E_INVALID_SQLITE_OPTION") && e.message.includes("SQLite URL option poll"),
        bad,
      );
    }
  });
});

describe("isValidTablePrefix", () => {
  it("accepts lower-case identifiers and rejects anything that could escape a name", () => {
    assert.ok(isValidTablePrefix("tend_"));
    assert.ok(isValidTablePrefix("_x1"));
    for (const bad of ["", "Tend", "1x", 'a"; DROP', "a-b", "a b"]) assert.ok(!isValidTablePrefix(bad), bad);
  });
});

describe("firstTrue", () => {
  it("finds the first index where a monotonic predicate holds, or hi + 1 when none", () => {
    assert.equal(
      firstTrue(1, 100, (x) => x * x >= 50),
      8,
    );
    assert.equal(
      firstTrue(1, 100, () => true),
      1,
    );
    assert.equal(
      firstTrue(1, 100, () => false),
      101,
    );
    assert.equal(
      firstTrue(5, 5, (x) => x >= 5),
      5,
    );
    let probes = 0;
    firstTrue(1, 1_000_000, (x) => {
      probes++;
      return x >= 765_432;
    });
    assert.ok(probes <= 21, `bisects in about log2(n) probes: ${probes}`);
  });
});
