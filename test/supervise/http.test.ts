import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createApp } from "../../src/app.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const TEND = join(import.meta.dirname, "..", "..", "bin", "tend.js");
const APP = join(import.meta.dirname, "fixtures", "app.ts");

function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n"))
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}

describe("tend supervise --http", () => {
  it("serves the master's probes, the supervisor's metrics and the fleet's job metrics gathered from its workers, then stops with it", async (t) => {
    const tmp = await makeTempDir("tend-supervise-http-");
    t.after(() => tmp.cleanup());
    const master = spawn(
      process.execPath,
      [
        TEND,
        "supervise",
        APP,
        "--min",
        "2",
        "--max",
        "2",
        "--database",
        `sqlite:${join(tmp.dir, "tend.db")}`,
        "--http",
        // Port 0: the master picks a free port and logs it (a port chosen here and bound later by
        // the child could be taken in between by another test file's connection).
        "127.0.0.1:0",
        "--no-spare",
      ],
      {
        cwd: tmp.dir,
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, TEND_LOG_PRETTY: "0", TEND_LOG_LEVEL: "info" },
      },
    );
    let stderr = "";
    master.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const exited = once(master, "exit");
    t.after(() => {
      if (master.exitCode === null) master.kill("SIGKILL");
    });
    // The CLI logs to stderr; its "HTTP server listening" line carries the bound address.
    const base = await waitFor(
      () => {
        for (const line of stderr.split("\n")) {
          if (!line.startsWith("{")) continue;
          const entry = JSON.parse(line) as { msg?: string; url?: string; pid?: number };
          if (entry.msg === "HTTP server listening" && entry.pid === master.pid) return entry.url;
        }
        return undefined;
      },
      {
        timeoutMs: 30_000,
        message: `the master's "HTTP server listening" line (stderr: ${stderr.slice(-500)})`,
      },
    );
    const text = await waitFor(
      async () => {
        const body = await (await fetch(`${base}/metrics`)).text();
        return sample(body, 'tend_supervisor_workers{state="ready"}') === 2 ? body : null;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        message: `two ready workers on /metrics (stderr: ${stderr.slice(-500)})`,
      },
    );
    assert.equal(sample(text, "tend_supervisor_desired_workers"), 2);
    assert.equal(sample(text, "tend_supervisor_restarts_total"), 0);
    assert.equal(sample(text, 'tend_supervisor_hangs_total{problem="hung"}'), 0);
    assert.equal(sample(text, "tend_supervisor_up"), 1);
    assert.match(text, /^process_resident_memory_bytes /m);
    // The fleet's job metrics: jobs run by either worker, summed in one scrape.
    const producer = createApp({
      database: `sqlite:${join(tmp.dir, "tend.db")}`,
      log: captureLog().log,
      tracing: false,
    });
    t.after(() => producer.close());
    for (let i = 0; i < 6; i++) await producer.enqueue("sleep", { ms: 1 });
    const fleet = await waitFor(
      async () => {
        const body = await (await fetch(`${base}/metrics`)).text();
        return sample(
          body,
          'tend_job_attempts_finished_total{queue="default",kind="sleep",outcome="completed"}',
        ) === 6
          ? body
          : null;
      },
      { timeoutMs: 30_000, intervalMs: 200, message: "six completed jobs summed over the fleet" },
    );
    assert.equal(sample(fleet, 'tend_job_attempts_started_total{queue="default",kind="sleep"}'), 6);
    assert.equal(sample(fleet, "tend_store_up"), 1, "min over the workers, not a sum");
    assert.equal(sample(fleet, "tend_supervisor_desired_workers"), 2);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    assert.equal((await fetch(`${base}/healthz`)).status, 200);

    master.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, stderr.slice(-2000));
    await assert.rejects(fetch(`${base}/healthz`), "the server is closed with the master");
  });

  it("a bad address fails with TEND_E_INVALID_HTTP_OPTIONS before anything starts", async () => {
    const r = spawn(
      process.execPath,
      [TEND, "supervise", APP, "--http", "nope:port", "--database", "sqlite::memory:"],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    r.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const [code] = (await once(r, "exit")) as [number | null];
    assert.notEqual(code, 0);
    assert.match(stderr, /TEND_E_INVALID_HTTP_OPTIONS/);
  });
});
