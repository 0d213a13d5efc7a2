import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createApp } from "../../src/app.ts";
import { Manager } from "../../src/lifecycle/manager.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const root = join(import.meta.dirname, "..", "..");

function has(command: string): boolean {
  return spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;
}

const skipPromtool = has("promtool")
  ? false
  : "promtool not installed (Debian package `prometheus`; .ci/run installs it)";
const skipPrometheus = has("prometheus")
  ? false
  : "prometheus not installed (Debian package `prometheus`; .ci/run installs it)";

describe("Prometheus", () => {
  it("promtool accepts the alert rules and their unit tests pass", { skip: skipPromtool }, () => {
    const dir = join(root, "docs", "alerts");
    execFileSync("promtool", ["check", "rules", join(dir, "tend.rules.yml")], { stdio: "pipe" });
    execFileSync("promtool", ["test", "rules", join(dir, "tend.rules.test.yml")], { stdio: "pipe" });
  });

  it(
    "a real Prometheus scrapes a running app and reads tend's series back; promtool accepts the exposition",
    { skip: skipPrometheus || skipPromtool },
    async (t) => {
      const tmp = await makeTempDir("tend-prometheus-");
      t.after(() => tmp.cleanup());
      const capture = captureLog();
      const app = createApp({
        database: `sqlite:${join(tmp.dir, "tend.db")}`,
        log: capture.log,
        http: { port: 0 },
        jobs: { pollInterval: 50 },
      });
      let done = 0;
      app.job("prom.work", () => void done++);
      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      t.after(() => manager.stop());
      for (let i = 0; i < 3; i++) await app.enqueue("prom.work", { i });
      await waitFor(() => done === 3, { message: "three jobs done" });

      const exposition = await (await fetch(`${app.httpAddress}/metrics`)).text();
      const check = spawnSync("promtool", ["check", "metrics"], { input: exposition, encoding: "utf8" });
      // promtool parses and lints the whole exposition: tend's families and the process defaults
      // (less prom-client's gauges named *_total, which the registry leaves out).
      const problems = `${check.stdout}${check.stderr}`.split("\n").filter((l) => l.trim() !== "");
      assert.deepEqual(problems, [], `promtool check metrics:\n${problems.join("\n")}`);
      assert.equal(check.status, 0);
      assert.match(exposition, /^nodejs_active_handles\{type="[^"]+"\} \d+$/m, "handles by type stay");

      const target = new URL(app.httpAddress!).host;
      await writeFile(
        join(tmp.dir, "prometheus.yml"),
        `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: tend\n    static_configs:\n      - targets: ["${target}"]\n`,
      );
      // Prometheus binds a port the system picks, and logs it: no free port taken beforehand that
      // another test file could take before it binds.
      const prometheus: ChildProcess = spawn(
        "prometheus",
        [
          `--config.file=${join(tmp.dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(tmp.dir, "data")}`,
          "--web.listen-address=127.0.0.1:0",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      t.after(
        () =>
          new Promise<void>((resolve) => {
            if (prometheus.exitCode !== null) return resolve();
            prometheus.once("exit", () => resolve());
            prometheus.kill("SIGTERM");
          }),
      );
      let stderr = "";
      prometheus.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const port = await waitFor(
        () => /msg="Listening on" address=127\.0\.0\.1:(\d+)/.exec(stderr)?.[1] ?? null,
        {
          timeoutMs: 30_000,
          message: `Prometheus's "Listening on" line on its stderr`,
        },
      );
      const query = async (
        expr: string,
      ): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await res.json()) as {
          data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
        };
        return body.data.result;
      };
      const enqueued = await waitFor(
        async () => {
          const result = await query('tend_jobs_enqueued_total{kind="prom.work"}');
          return result.length > 0 ? result : null;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 250,
          message: "Prometheus to have scraped tend_jobs_enqueued_total",
        },
      );
      assert.equal(enqueued[0]!.value[1], "3");
      assert.equal(enqueued[0]!.metric["queue"], "default");
      const completed = await query('tend_job_attempts_finished_total{kind="prom.work",outcome="completed"}');
      assert.equal(completed[0]?.value[1], "3");
      assert.equal((await query("up"))[0]?.value[1], "1");
      assert.equal((await query("tend_store_up"))[0]?.value[1], "1");
    },
  );
});
