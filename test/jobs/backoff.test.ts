import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TendError } from "../../src/errors/tend-error.ts";
import { DEFAULT_BACKOFF, nextRetryAt, retryDelay } from "../../src/jobs/backoff.ts";
import { failureOutcome } from "../../src/jobs/outcome.ts";

describe("retryDelay", () => {
  it("grows exponentially from the base and caps at the maximum", () => {
    const mid = () => 0.5;
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => retryDelay(n, DEFAULT_BACKOFF, mid)),
      [1000, 2000, 4000, 8000],
    );
    assert.equal(retryDelay(40, DEFAULT_BACKOFF, mid), DEFAULT_BACKOFF.maxMs);
  });
  it("spreads the delay by the jitter fraction", () => {
    assert.equal(
      retryDelay(3, DEFAULT_BACKOFF, () => 0),
      3000,
    );
    assert.equal(
      retryDelay(3, DEFAULT_BACKOFF, () => 0.999999),
      5000,
    );
    const none = { ...DEFAULT_BACKOFF, jitter: 0 };
    assert.equal(
      retryDelay(3, none, () => 0),
      4000,
    );
  });
  it("treats attempt numbers below 1 as 1", () => {
    assert.equal(
      retryDelay(0, DEFAULT_BACKOFF, () => 0.5),
      1000,
    );
  });
});

describe("nextRetryAt", () => {
  it("discards when attempts are exhausted or the failure is not retryable", () => {
    assert.equal(
      nextRetryAt(3, 3, 0, () => 10),
      null,
    );
    assert.equal(
      nextRetryAt(1, 3, 0, () => 10, false),
      null,
    );
    assert.equal(nextRetryAt(1, 3, 1000, () => 10)?.getTime(), 1010);
  });
});

describe("failureOutcome", () => {
  const now = new Date(0);
  it("releases at shutdown, cancels on cancel, writes nothing after a lost lease", () => {
    assert.deepEqual(failureOutcome(new Error("x"), "shutdown", 1, now), { write: "release" });
    assert.deepEqual(failureOutcome(new Error("x"), "cancel", 1, now), { write: "cancel" });
    assert.deepEqual(failureOutcome(new Error("x"), "lease-lost", 1, now), { write: "nothing" });
  });
  it("records timeouts and errors, and does not retry a bad payload", () => {
    const timeout = failureOutcome(new Error("x"), "timeout", 2, now);
    assert.equal(timeout.write === "fail" && timeout.error.code, "TEND_E_JOB_TIMEOUT");
    const plain = failureOutcome("a string", null, 1, now);
    assert.ok(plain.write === "fail" && plain.retryable && plain.error.message === "a string");
    const bad = failureOutcome(new TendError("TEND_E_INVALID_PAYLOAD", "bad"), null, 1, now);
    assert.ok(bad.write === "fail" && !bad.retryable && bad.error.code === "TEND_E_INVALID_PAYLOAD");
  });
});
