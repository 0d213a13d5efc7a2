import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { integerOption } from "../../src/cli/integer-option.ts";
import { isTendError } from "../../src/errors/index.ts";
import { insertOne } from "../conformance/job-store/helpers.ts";
import { sqliteStoreForSuite, tend } from "./helpers.ts";

describe("whole-number options: digits only, within their range, every bad value refused alike", () => {
  const suite = sqliteStoreForSuite("tend-cli-integers-");

  it("tend jobs list -n refuses 0, too large, 1e3, -1, 0x10, ' 5' and text alike: exit 1, --limit, the value, 1 to 10000", async () => {
    for (const value of ["0", "100000000000", "1e3", "-1", "0x10", " 5", "ten", "10001"]) {
      const r = await tend("jobs", "list", "-n", value, "-d", suite.url);
      assert.equal(r.code, 1, `-n ${JSON.stringify(value)}: ${r.stderr}`);
      assert.equal(
        r.stderr.split("\n")[0],
        `tend: Invalid --limit: got ${JSON.stringify(value)}, expected an integer from 1 to 10000. [TEND_E_INVALID_STORE_ARGUMENT]`,
      );
      assert.equal(r.stdout, "");
    }
  });

  it("tend jobs list -n takes its bounds and a plain number", async () => {
    await insertOne(suite.store, { queue: "integers" });
    await insertOne(suite.store, { queue: "integers" });
    for (const [value, count] of [
      ["1", 1],
      ["10000", 2],
    ] as const) {
      const r = await tend("jobs", "list", "-q", "integers", "-n", value, "--json", "-d", suite.url);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as unknown[]).length, count);
    }
  });

  it("tend cron list -n and tend inconsistencies -n refuse a bad value the same way", async () => {
    const cron = await tend("cron", "list", "-n", "1e1", "-d", suite.url);
    assert.equal(cron.code, 1, cron.stderr);
    assert.match(
      cron.stderr,
      /^tend: Invalid --next: got "1e1", expected an integer from 0 to 100\. \[TEND_E_INVALID_CRON\]$/m,
    );
    const cronOk = await tend("cron", "list", "-n", "0", "--json", "-d", suite.url);
    assert.equal(cronOk.code, 0, cronOk.stderr);
    const incon = await tend("inconsistencies", "-n", "0", "-d", suite.url);
    assert.equal(incon.code, 1, incon.stderr);
    assert.match(
      incon.stderr,
      /^tend: Invalid --limit: got "0", expected an integer from 1 to 100000\. \[TEND_E_CONVERGER_INVALID_FILTER\]$/m,
    );
  });

  it("integerOption is a pure parser: digits in range pass, anything else is a TendError with the value", () => {
    const parse = integerOption("--limit", 1, 10, "TEND_E_INVALID_STORE_ARGUMENT");
    assert.equal(parse("1"), 1);
    assert.equal(parse("010"), 10);
    for (const text of ["", "0", "11", "1.0", "1e1", "+1", "1 ", "9".repeat(400)]) {
      assert.throws(
        () => parse(text),
        (err: unknown) =>
          isTendError(err) &&
          err.code === "TEND_E_INVALID_STORE_ARGUMENT" &&
          err.message.includes("--limit") &&
          err.message.includes("an integer from 1 to 10"),
        JSON.stringify(text),
      );
    }
  });
});
