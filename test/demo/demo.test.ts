import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const DEMO = join(import.meta.dirname, "..", "..", "examples", "demo", "main.ts");

describe("the demo (npm start)", () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("runs jobs, cron, a converger and an inbox on SQLite, then shuts down cleanly on Ctrl-C", async () => {
    const tmp = await makeTempDir("tend-demo-");
    cleanups.push(tmp.cleanup);
    const env: NodeJS.ProcessEnv = { ...process.env, TEND_LOG_PRETTY: "0", TEND_LOG_LEVEL: "info" };
    delete env["NODE_TEST_CONTEXT"];
    delete env["TEND_DATABASE_URL"];
    const child = spawn(process.execPath, [DEMO], { cwd: tmp.dir, env, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const messages: string[] = [];
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        messages.push(String((JSON.parse(line) as { msg?: unknown }).msg));
      } catch {
        messages.push(line);
      }
    });
    await waitFor(
      () =>
        messages.some((m) => m.startsWith("hello, ")) &&
        messages.includes("file done") &&
        messages.includes("inconsistency converged"),
      { timeoutMs: 60_000, message: "a greeting job, an inbox file and a converged note" },
    );
    const outbox = join(tmp.dir, "var", "demo", "outbox");
    const [summary = ""] = readdirSync(outbox);
    assert.ok(summary.endsWith(".txt.json"), `a summary in the outbox (found "${summary}")`);
    assert.deepEqual(JSON.parse(readFileSync(join(outbox, summary), "utf8")).words, 9);
    assert.ok(existsSync(join(tmp.dir, "var", "demo", "tend.db")), "the embedded default is an SQLite file");
    child.kill("SIGINT");
    assert.equal(await exited, 0, stderr);
    await waitFor(() => messages.at(-1) === "clean shutdown", {
      timeoutMs: 5_000,
      message: "the last log line",
    });
  });
});
