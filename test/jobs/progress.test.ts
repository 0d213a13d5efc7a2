import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProgressReporter, progressWriteDelay } from "../../src/jobs/progress.ts";
import { deferred } from "../conformance/jobs/helpers.ts";

describe("progressWriteDelay", () => {
  it("writes at once when nothing was written, else waits out the interval", () => {
    assert.equal(progressWriteDelay(-Infinity, 0, 1000), 0);
    assert.equal(progressWriteDelay(4_800, 5_000, 1_000), 800);
    assert.equal(progressWriteDelay(3_000, 5_000, 1_000), 0);
  });
});

describe("ProgressReporter", () => {
  it("writes the first value at once, then only the latest one per interval, and the last on flush", async () => {
    const written: string[] = [];
    let clock = 0;
    const wrote = deferred();
    const reporter = new ProgressReporter(
      async (t) => {
        written.push(t);
        wrote.resolve();
      },
      60_000,
      () => clock,
    );
    reporter.set("1");
    await wrote.promise;
    for (let i = 2; i <= 1000; i++) reporter.set(String(i));
    clock = 10;
    assert.deepEqual(written, ["1"], "later values wait for the interval");
    await reporter.flush();
    assert.deepEqual(written, ["1", "1000"]);
    reporter.set("late");
    await reporter.flush();
    assert.deepEqual(written, ["1", "1000"], "nothing after the flush");
  });

  it("close drops the value not yet written", async () => {
    const written: string[] = [];
    const reporter = new ProgressReporter(
      async (t) => void written.push(t),
      60_000,
      () => 0,
    );
    reporter.set("a");
    reporter.set("b");
    reporter.close();
    await reporter.flush();
    assert.deepEqual(written, ["a"]);
  });
});
