import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { outputFailure } from "../../src/cli/output-errors.ts";
import { newJob } from "../conformance/job-store/helpers.ts";
import { sqliteStoreForSuite } from "./helpers.ts";

const TEND = join(import.meta.dirname, "..", "..", "bin", "tend.js");

describe("tend writing into a pipe whose reader goes away (real processes running bin/tend.js)", () => {
  const suite = sqliteStoreForSuite("tend-cli-pipe-");
  before(async () => {
    // 400 jobs of 1 KB: the JSON is far more than a pipe's buffer (64 KiB on Linux).
    const payload = JSON.stringify({ pad: "x".repeat(1_000) });
    await suite.store.jobs.insert(Array.from({ length: 400 }, () => newJob({ payload })));
  });

  it("stops quietly with exit code 0, no stack, when stdout's reader closes after a few bytes (| head -c 10)", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env["TEND_DATABASE_URL"];
    const child = spawn(process.execPath, [TEND, "jobs", "list", "--json", "-n", "10000", "-d", suite.url], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const [first] = (await once(child.stdout, "data")) as [Buffer];
    assert.ok(first.length > 0);
    // The reader goes away, as `head -c 10` does once it has its bytes.
    child.stdout.destroy();
    const [code, signal] = await exited;
    assert.equal(signal, null, stderr);
    assert.equal(stderr, "", "nothing on stderr (no 'Unhandled error event', no EPIPE stack)");
    assert.equal(code, 0);
  });

  it("reports an output error other than EPIPE, and only EPIPE is quiet", () => {
    const error = (code: string) => Object.assign(new Error(`write ${code}`), { code });
    assert.equal(outputFailure(error("EPIPE")), "quiet");
    assert.equal(outputFailure(error("ENOSPC")), "report");
    assert.equal(outputFailure(error("EIO")), "report");
    assert.equal(outputFailure(null), "report");
  });
});
