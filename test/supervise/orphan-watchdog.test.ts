import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { orphanVerdict } from "../../src/supervise/orphan-watchdog.ts";

const limits = { frozenMs: 1_000, graceMs: 2_000 };

describe("orphanVerdict", () => {
  it("waits while the master lives, however long the main thread is stuck", () => {
    assert.equal(orphanVerdict({ now: 60_000, masterGoneAt: null, mainProgressAt: 0 }, limits), "wait");
  });

  it("kills at once when the master is gone and the main thread is frozen", () => {
    assert.equal(orphanVerdict({ now: 10_000, masterGoneAt: 10_000, mainProgressAt: 5_000 }, limits), "kill");
    assert.equal(orphanVerdict({ now: 10_000, masterGoneAt: 9_900, mainProgressAt: 9_000 }, limits), "kill");
  });

  it("lets a live main thread drain for its grace, then kills as a backstop", () => {
    const gone = 10_000;
    assert.equal(
      orphanVerdict({ now: gone + 500, masterGoneAt: gone, mainProgressAt: gone + 400 }, limits),
      "wait",
    );
    assert.equal(
      orphanVerdict({ now: gone + 2_900, masterGoneAt: gone, mainProgressAt: gone + 2_800 }, limits),
      "wait",
    );
    assert.equal(
      orphanVerdict({ now: gone + 3_000, masterGoneAt: gone, mainProgressAt: gone + 2_900 }, limits),
      "kill",
    );
  });
});
