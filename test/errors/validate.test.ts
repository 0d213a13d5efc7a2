import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkBoolean,
  checkDate,
  checkFunction,
  checkInteger,
  checkNumber,
  checkObject,
  checkOneOf,
  checkPositiveNumber,
  checkString,
  closestKey,
  editDistance,
  isTendError,
  optionKeys,
  rejectUnknownKeys,
  TendError,
} from "../../src/errors/index.ts";

const CODE = "TEND_E_INVALID_JOB_OPTIONS";

function rejects(fn: () => unknown, name: string, expected: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isTendError(err, CODE), String(err));
    assert.equal(err.details["name"], name);
    assert.equal(err.details["expected"], expected);
    assert.match(err.message, new RegExp(`^Invalid ${name}: got `));
    return true;
  });
}

describe("argument checks", () => {
  it("checkInteger takes integers in range and names what it expected otherwise", () => {
    assert.equal(checkInteger(CODE, "n", 5, 1, 10), 5);
    assert.equal(checkInteger(CODE, "n", -3), -3);
    rejects(() => checkInteger(CODE, "n", 11, 1, 10), "n", "an integer from 1 to 10");
    rejects(() => checkInteger(CODE, "n", 1.5, 1, 10), "n", "an integer from 1 to 10");
    rejects(() => checkInteger(CODE, "n", "3", 1, 10), "n", "an integer from 1 to 10");
    rejects(() => checkInteger(CODE, "n", Number.NaN, 0), "n", "a non-negative integer");
    rejects(() => checkInteger(CODE, "n", 0, 1), "n", "a positive integer");
    rejects(() => checkInteger(CODE, "n", 1, 2), "n", "an integer >= 2");
  });

  it("checkNumber and checkPositiveNumber take finite numbers in range", () => {
    assert.equal(checkNumber(CODE, "x", 0.5, 0, 1), 0.5);
    assert.equal(checkPositiveNumber(CODE, "x", 0.1), 0.1);
    rejects(() => checkNumber(CODE, "x", 2, 0, 1), "x", "a number from 0 to 1");
    rejects(() => checkNumber(CODE, "x", -1, 0), "x", "a non-negative number");
    rejects(() => checkNumber(CODE, "x", Number.POSITIVE_INFINITY, 0), "x", "a non-negative number");
    rejects(() => checkPositiveNumber(CODE, "x", 0), "x", "a number > 0");
    rejects(() => checkPositiveNumber(CODE, "x", "1"), "x", "a number > 0");
  });

  it("checkOneOf, checkBoolean, checkString, checkObject and checkFunction", () => {
    assert.equal(checkOneOf(CODE, "mode", "move", ["move", "delete"]), "move");
    rejects(() => checkOneOf(CODE, "mode", "copy", ["move", "delete"]), "mode", 'one of "move", "delete"');
    assert.equal(checkBoolean(CODE, "flag", false), false);
    rejects(() => checkBoolean(CODE, "flag", "yes"), "flag", "true or false");
    assert.equal(checkString(CODE, "s", "a"), "a");
    rejects(() => checkString(CODE, "s", "  "), "s", "a non-empty string");
    rejects(() => checkString(CODE, "s", 3, "a name"), "s", "a name");
    assert.deepEqual(checkObject(CODE, "o", { a: 1 }), { a: 1 });
    rejects(() => checkObject(CODE, "o", null), "o", "an object");
    rejects(() => checkObject(CODE, "o", []), "o", "an object");
    const fn = () => 1;
    assert.equal(checkFunction(CODE, "f", fn), fn);
    rejects(() => checkFunction(CODE, "f", {}, "a handler"), "f", "a handler");
  });

  it("checkDate takes a Date that holds a time", () => {
    const at = new Date(1_700_000_000_000);
    assert.equal(checkDate(CODE, "at", at), at);
    rejects(() => checkDate(CODE, "at", new Date(Number.NaN)), "at", "a valid Date");
    rejects(() => checkDate(CODE, "at", "2024-01-01"), "at", "a valid Date");
    rejects(() => checkDate(CODE, "at", 1_700_000_000_000, "a Date, or null"), "at", "a Date, or null");
  });
});

describe("unknown options", () => {
  const keys = optionKeys<{ queue?: string; maxAttempts?: number; timeout?: number }>({
    queue: true,
    maxAttempts: true,
    timeout: true,
  });

  it("rejects an unknown key, naming it, where it was given, the accepted keys and the likely one", () => {
    assert.throws(
      () => rejectUnknownKeys("job kind options of email.send", { queue: "q", maxAtempts: 3 }, keys),
      (err: unknown) => {
        assert.ok(isTendError(err, "TEND_E_UNKNOWN_OPTION"));
        assert.equal(
          err.message,
          'Unknown option "maxAtempts" in job kind options of email.send; did you mean "maxAttempts"? Accepted: queue, maxAttempts, timeout.',
        );
        assert.deepEqual(err.details, {
          key: "maxAtempts",
          where: "job kind options of email.send",
          accepted: ["queue", "maxAttempts", "timeout"],
          suggestion: "maxAttempts",
        });
        return true;
      },
    );
  });

  it("offers no suggestion when nothing is close", () => {
    assert.throws(
      () => rejectUnknownKeys("cron options", { colour: "red" }, keys),
      (err: unknown) =>
        err instanceof TendError &&
        err.message === 'Unknown option "colour" in cron options. Accepted: queue, maxAttempts, timeout.' &&
        !("suggestion" in err.details),
    );
  });

  it("accepts known keys (also when undefined), and ignores inherited keys and non-objects", () => {
    rejectUnknownKeys("x", { queue: undefined, timeout: 5 }, keys);
    rejectUnknownKeys("x", Object.create({ inherited: 1 }) as object, keys);
    rejectUnknownKeys("x", undefined, keys);
    rejectUnknownKeys("x", null, keys);
  });

  it("finds the closest key by edit distance, ignoring case, and only when it is close", () => {
    assert.equal(editDistance("evry", "every"), 1);
    assert.equal(editDistance("tiemout", "timeout"), 1);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(closestKey("evry", ["every", "wakeOn"]), "every");
    assert.equal(closestKey("MaxAttempts", ["queue", "maxAttempts"]), "maxAttempts");
    assert.equal(closestKey("tiemout", ["timeout", "time"]), "timeout");
    assert.equal(closestKey("q", ["queue"]), undefined);
    assert.equal(closestKey("logger", ["log", "env"]), "log");
    assert.equal(closestKey("hangTimeoutMs", ["hangTimeout", "heartbeat"]), "hangTimeout");
    assert.equal(closestKey("signal", ["signals", "name"]), "signals");
    assert.equal(closestKey("colour", ["queue", "maxAttempts"]), undefined);
  });
});
