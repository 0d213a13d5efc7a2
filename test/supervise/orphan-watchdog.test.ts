import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
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

describe("the orphan watchdog thread", () => {
  const preload = join(import.meta.dirname, "fixtures", "preload.ts");
  const host = join(import.meta.dirname, "fixtures", "watchdog-host.ts");
  const cases = [
    { name: "in NODE_OPTIONS", args: [host], nodeOptions: `--require ${JSON.stringify(preload)}` },
    { name: "on the command line", args: ["--require", preload, host], nodeOptions: "" },
  ];
  for (const c of cases) {
    it(`does not run the process's preload given ${c.name}, and still kills`, async () => {
      const child = spawn(process.execPath, c.args, {
        env: { ...process.env, NODE_OPTIONS: c.nodeOptions },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
      assert.equal(signal, "SIGKILL", `exit code ${code}: ${stderr}`);
      // The main thread did load it (so the test would see a thread that does too); the watchdog did not.
      assert.match(stderr, /preload loaded in the main thread/);
      assert.doesNotMatch(stderr, /preload loaded in a worker thread/);
    });
  }
});
