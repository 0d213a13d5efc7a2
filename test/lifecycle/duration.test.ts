import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../src/errors/index.ts";
import { durationFromText, MAX_TIMER_MS, parseDuration, parseTimeout } from "../../src/lifecycle/index.ts";

describe("parseDuration", () => {
  it("reads numbers as milliseconds", () => {
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration(250), 250);
    assert.equal(parseDuration(1.5), 1.5);
  });

  it("reads strings with units ms, s, m, h, d, alone or combined", () => {
    assert.equal(parseDuration("250ms"), 250);
    assert.equal(parseDuration("30s"), 30_000);
    assert.equal(parseDuration("5m"), 300_000);
    assert.equal(parseDuration("2h"), 7_200_000);
    assert.equal(parseDuration("1d"), 86_400_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("1m30s500ms"), 90_500);
    assert.equal(parseDuration("1.5s"), 1500);
    assert.equal(parseDuration(".5s"), 500);
    assert.equal(parseDuration(" 10s "), 10_000);
  });

  for (const bad of ["", "  ", "500", "10 s", "5x", "s", "-5s", "1h 30m", "1e3ms", "ms5", "5ss", "NaN"]) {
    it(`rejects ${JSON.stringify(bad)} with TEND_E_INVALID_DURATION naming the value`, () => {
      assert.throws(
        () => parseDuration(bad, "interval"),
        (err: unknown) =>
          isTendError(err, "TEND_E_INVALID_DURATION") &&
          err.message.includes(JSON.stringify(bad)) &&
          err.message.includes("interval"),
      );
    });
  }

  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, {}, true]) {
    it(`rejects the non-duration ${String(bad)}`, () => {
      assert.throws(
        () => parseDuration(bad),
        (err: unknown) => isTendError(err, "TEND_E_INVALID_DURATION"),
      );
    });
  }
});

describe("parseTimeout", () => {
  it("accepts positive durations up to the timer limit", () => {
    assert.equal(parseTimeout("30s"), 30_000);
    assert.equal(parseTimeout(1), 1);
    assert.equal(parseTimeout(MAX_TIMER_MS), MAX_TIMER_MS);
  });

  for (const bad of [0, "0s", -5, MAX_TIMER_MS + 1, "30d", "soon"]) {
    it(`rejects ${JSON.stringify(bad)} with TEND_E_INVALID_TIMEOUT`, () => {
      assert.throws(
        () => parseTimeout(bad, "shutdownTimeout"),
        (err: unknown) =>
          isTendError(err, "TEND_E_INVALID_TIMEOUT") &&
          err.message.includes("shutdownTimeout") &&
          err.message.includes(JSON.stringify(bad)),
      );
    });
  }

  it("uses the code it is given", () => {
    assert.throws(
      () => parseTimeout(0, "interval", "TEND_E_INVALID_INTERVAL"),
      (err: unknown) => isTendError(err, "TEND_E_INVALID_INTERVAL"),
    );
  });
});

describe("durationFromText", () => {
  it("reads bare digits as milliseconds and keeps anything else as typed for parseDuration", () => {
    assert.equal(durationFromText("250"), 250);
    assert.equal(durationFromText(" 1.5 "), 1.5);
    assert.equal(durationFromText("30s"), "30s");
    assert.equal(durationFromText(" 1m30s "), "1m30s");
    assert.equal(durationFromText("-5"), "-5");
    assert.equal(durationFromText("soon"), "soon");
    assert.equal(parseDuration(durationFromText("30s")), 30_000);
    assert.throws(() => parseDuration(durationFromText("-5"), "--kill-timeout"), /--kill-timeout/);
  });
});
