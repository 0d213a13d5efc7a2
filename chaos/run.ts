/**
 * The chaos suite: runs each scenario in its own process, one after another, passes their progress
 * through (stderr), collects the one JSON verdict line each prints, then prints a summary table.
 * Exits 1 if any verdict failed or a scenario printed none. See docs/chaos.md.
 *
 *   npm run chaos                          # full size (5 to 10 minutes on 2 cores)
 *   npm run chaos -- --smoke               # small sizes (CI; about 2 minutes)
 *   npm run chaos -- --only job-kill-loop,master-kill
 *   npm run chaos -- --json                # also the verdicts as one JSON array on the last line
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Verdict } from "./support/scenario.ts";

interface Entry {
  name: string;
  file: string;
  args: string[];
}

const SCENARIOS: Entry[] = [
  { name: "job-kill-loop/sqlite", file: "job-kill-loop.ts", args: ["--driver", "sqlite"] },
  { name: "job-kill-loop/postgres", file: "job-kill-loop.ts", args: ["--driver", "postgres"] },
  { name: "importer-kill-loop", file: "importer-kill-loop.ts", args: [] },
  { name: "master-kill", file: "master-kill.ts", args: [] },
  { name: "sighup-roll", file: "sighup-roll.ts", args: [] },
  { name: "poison-job", file: "poison-job.ts", args: [] },
  { name: "postgres-proxy", file: "postgres-proxy.ts", args: [] },
  { name: "postgres-restart", file: "postgres-restart.ts", args: [] },
];

const { values } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    only: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const only = values.only?.split(",").map((s) => s.trim());
const selected = SCENARIOS.filter(
  (s) => only === undefined || only.some((o) => s.name === o || s.name.startsWith(`${o}/`)),
);
if (selected.length === 0) {
  console.error(
    `no scenario matches --only ${values.only}; scenarios: ${SCENARIOS.map((s) => s.name).join(", ")}`,
  );
  process.exit(2);
}
const timeoutMs = values.smoke ? 150_000 : 1_800_000;

/** Runs one scenario; resolves with its verdict (or a failed one saying why there was none). */
function runOne(entry: Entry): Promise<Verdict> {
  const scenario = entry.file.replace(/\.ts$/, "");
  const args = [
    join(import.meta.dirname, "scenarios", entry.file),
    ...entry.args,
    ...(values.smoke ? ["--smoke"] : []),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, TEND_LOG_LEVEL: process.env["TEND_LOG_LEVEL"] ?? "error", TEND_LOG_PRETTY: "0" },
  });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGTERM"); // the scenario cleans up what it started
    setTimeout(() => child.kill("SIGKILL"), 30_000).unref();
  }, timeoutMs);
  const stop = () => child.kill("SIGTERM");
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      const line = stdout
        .split("\n")
        .reverse()
        .find((l) => l.startsWith('{"scenario"'));
      if (line !== undefined) {
        process.stdout.write(`${line}\n`);
        resolve(JSON.parse(line) as Verdict);
        return;
      }
      const verdict: Verdict = {
        scenario,
        driver: entry.args[1] ?? "-",
        ok: false,
        notes: [
          timedOut
            ? `timed out after ${timeoutMs / 1000} s without a verdict`
            : `exited ${code ?? signal} without a verdict; its output ended: ${stdout.slice(-500)}`,
        ],
      };
      process.stdout.write(`${JSON.stringify(verdict)}\n`);
      resolve(verdict);
    });
  });
}

const started = Date.now();
const verdicts: Verdict[] = [];
for (const entry of selected) verdicts.push(await runOne(entry));

const rows = verdicts.map((v) => [
  v.ok ? "ok" : "FAIL",
  `${v.scenario}/${v.driver}`,
  `${v["seconds"] ?? "-"}`,
  v.ok ? "" : (v.notes[0] ?? ""),
]);
const header = ["verdict", "scenario", "seconds", "first note"];
const widths = header.map((h, i) =>
  Math.max(h.length, ...rows.map((r) => Math.min(r[i]!.length, i === 3 ? 100 : 60))),
);
const line = (r: string[]) => r.map((c, i) => (i === 3 ? c.slice(0, 100) : c.padEnd(widths[i]!))).join("  ");
const failed = verdicts.filter((v) => !v.ok).length;
process.stdout.write(
  [
    "",
    `chaos suite${values.smoke ? " (smoke sizes)" : ""}: ${verdicts.length - failed} ok, ${failed} failed, ${Math.round((Date.now() - started) / 1000)} s`,
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
  ].join("\n"),
);
if (values.json) process.stdout.write(`${JSON.stringify(verdicts)}\n`);
process.exitCode = failed === 0 ? 0 : 1;
