/**
 * Lifecycle benchmark: what does running a program under tend's Manager cost, next to a bare Node
 * process? Side by side, in one run, with the same node binary (process.execPath):
 *
 *   - time from spawn to a "ready" line on stdout,
 *   - idle RSS at that moment (a manager running three idle tasks plus the signal task),
 *   - SIGTERM-to-exit latency with no work in flight (kill() to the 'exit' event), against a bare
 *     process whose SIGTERM handler exits.
 *
 * tend is measured twice: as built JavaScript (how a service is deployed; the lifecycle sources are
 * compiled into var/bench/lifecycle/ first) and as .ts run through Node's type stripping (how the
 * repository runs in development). Targets (built JS): ready <= 1.5x bare, RSS <= 1.3x bare,
 * SIGTERM-to-exit < 50 ms.
 *
 * Then a whole app (createApp on SQLite, one job kind, "ready" once started) two ways, as it is
 * deployed: `node dist/main.js` (built JavaScript with node_modules beside it) and the single
 * executable `tend build` makes of the same main.js (its size is reported too). `--no-exe` skips
 * the executable (building it takes tens of seconds).
 *
 *   npm run bench:lifecycle [-- --runs 15] [--smoke] [--json] [--no-exe]
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

import { median, parseFlags, report } from "./_support/report.ts";

const ROOT = join(import.meta.dirname, "..");
const args = process.argv.slice(2);
const flags = parseFlags(args);
const smoke = flags.smoke;
const runsArg = args.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : smoke ? 3 : 15;

interface Sample {
  readyMs: number;
  rssMb: number;
  exitMs: number;
}

interface System {
  readonly name: string;
  readonly argv: readonly string[];
  /** The executable to run (default: this Node). */
  readonly command?: string;
  /** Working directory (default: the repository). */
  readonly cwd?: string;
}

/** Compiles an entry of src/ and everything it imports into plain JavaScript under var/bench/lifecycle/. */
async function buildLifecycle(entry = join("lifecycle", "index.ts")): Promise<string> {
  const ts = (await import("typescript")).default;
  const srcDir = join(ROOT, "src");
  const outDir = join(ROOT, "var", "bench", "lifecycle");
  const pending = [join(srcDir, entry)];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+\.ts)"/g)) {
      const spec = match[1];
      if (spec !== undefined) pending.push(join(dirname(file), spec));
    }
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2023,
        rewriteRelativeImportExtensions: true,
        verbatimModuleSyntax: true,
      },
    });
    const target = join(outDir, relative(srcDir, file)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  return join(outDir, entry.replace(/\.ts$/, ".js"));
}

/** A whole app on SQLite, built JavaScript: main.js beside the compiled tend. */
function writeApp(tendIndex: string): { dir: string; main: string } {
  const dir = join(ROOT, "var", "bench", "lifecycle", "app");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const main = join(dir, "main.js");
  writeFileSync(
    main,
    `import { createApp } from ${JSON.stringify(relative(dir, tendIndex).startsWith(".") ? relative(dir, tendIndex) : `./${relative(dir, tendIndex)}`)};
const app = createApp({ database: "sqlite:./var/app.db", jobs: { concurrency: 4 } });
app.job("work", () => {});
app.ephemeral({ name: "announce", async run() { process.stdout.write("ready\\n"); } });
await app.main();
`,
  );
  return { dir, main };
}

/** The tend program: main() with three idle tasks, printing "ready" once they run. */
function tendProgram(entry: string): string {
  return `import { main } from ${JSON.stringify(entry)};
const idle = (name) => ({ name, run: (signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })) });
await main((manager) => {
  for (const name of ["a", "b", "c"]) manager.run(idle(name));
  process.stdout.write("ready\\n");
});`;
}

const BARE =
  "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1 << 30); process.stdout.write('ready\\n');";

function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match?.[1] === undefined ? Number.NaN : Number(match[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

function measure(system: System): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(system.command ?? process.execPath, system.argv, {
      cwd: system.cwd ?? ROOT,
      env: { ...process.env, TEND_LOG_PRETTY: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let buffered = "";
    let readyMs = Number.NaN;
    let rss = Number.NaN;
    let killedAt = Number.NaN;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (!Number.isNaN(readyMs)) return;
      buffered += chunk;
      if (!/^ready$/m.test(buffered)) return;
      readyMs = performance.now() - started;
      rss = rssMb(child.pid as number);
      killedAt = performance.now();
      child.kill("SIGTERM");
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      const exitMs = performance.now() - killedAt;
      if (Number.isNaN(readyMs))
        reject(new Error(`${system.name} exited (${code ?? signal}) before it was ready`));
      else if (code !== 0) reject(new Error(`${system.name} exited with ${code ?? signal} after SIGTERM`));
      else resolve({ readyMs, rssMb: rss, exitMs });
    });
  });
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

const builtEntry = await buildLifecycle();
const systems: System[] = [
  { name: "node (bare)", argv: ["-e", BARE] },
  { name: "tend (built JS)", argv: ["--input-type=module", "-e", tendProgram(builtEntry)] },
  {
    name: "tend (.ts, type stripping)",
    argv: ["--input-type=module", "-e", tendProgram(join(ROOT, "src", "lifecycle", "index.ts"))],
  },
];

const tendIndex = await buildLifecycle("index.ts");
const app = writeApp(tendIndex);
systems.push({ name: "app: node dist/main.js", argv: [app.main], cwd: app.dir });
let exeBytes = Number.NaN;
if (!args.includes("--no-exe")) {
  const { buildExecutable } = await import("../src/cli/build/build.ts");
  const exe = join(app.dir, "app-exe");
  const built = await buildExecutable({ entry: app.main, output: exe });
  exeBytes = built.bytes;
  systems.push({ name: "app: single executable", command: exe, argv: [], cwd: app.dir });
}

// One warm-up round (file cache), then interleaved runs so that load on the machine hits all alike.
for (const system of systems) await measure(system);
const samples = new Map<string, Sample[]>(systems.map((s) => [s.name, []]));
for (let run = 0; run < RUNS; run++) {
  for (const system of systems) samples.get(system.name)?.push(await measure(system));
}

const medians = new Map(
  systems.map((s) => {
    const list = samples.get(s.name) ?? [];
    return [
      s.name,
      {
        readyMs: median(list.map((x) => x.readyMs)),
        rssMb: median(list.map((x) => x.rssMb)),
        exitMs: median(list.map((x) => x.exitMs)),
      },
    ] as const;
  }),
);
const bare = medians.get("node (bare)") as Sample;
const built = medians.get("tend (built JS)") as Sample;
const stripped = medians.get("tend (.ts, type stripping)") as Sample;
const ratios = {
  ready: round(built.readyMs / bare.readyMs, 2),
  rss: round(built.rssMb / bare.rssMb, 2),
  sigterm_exit: round(built.exitMs / bare.exitMs, 2),
  ready_ts: round(stripped.readyMs / bare.readyMs, 2),
  rss_ts: round(stripped.rssMb / bare.rssMb, 2),
};

const appNode = medians.get("app: node dist/main.js") as Sample;
const appExe = medians.get("app: single executable");
if (appExe !== undefined) {
  Object.assign(ratios, {
    app_exe_ready_vs_node_dist: round(appExe.readyMs / appNode.readyMs, 2),
    app_exe_rss_vs_node_dist: round(appExe.rssMb / appNode.rssMb, 2),
  });
}
Object.assign(ratios, { app_node_dist_ready_vs_bare: round(appNode.readyMs / bare.readyMs, 2) });

const rows = [...medians].flatMap(([system, m]) => [
  { system, metric: "ready_ms", value: round(m.readyMs), unit: "ms" },
  { system, metric: "idle_rss", value: round(m.rssMb), unit: "MiB" },
  { system, metric: "sigterm_to_exit_ms", value: round(m.exitMs), unit: "ms" },
]);

if (appExe !== undefined) {
  rows.push({
    system: "app: single executable",
    metric: "file_size",
    value: round(exeBytes / 1048576),
    unit: "MiB",
  });
}

const verdict = (ok: boolean) => (ok ? "meets target" : "MISSES target");
report("lifecycle", rows, ratios, flags, [
  `medians of ${RUNS} runs, node ${process.version}`,
  `ready ratio (built JS / bare): ${ratios.ready}x, ${verdict(ratios.ready <= 1.5)} (<= 1.5x)`,
  `RSS ratio (built JS / bare): ${ratios.rss}x, ${verdict(ratios.rss <= 1.3)} (<= 1.3x)`,
  `SIGTERM->exit (built JS): ${round(built.exitMs)} ms, ${verdict(built.exitMs < 50)} (< 50 ms)`,
  `with type stripping (.ts): ready ${ratios.ready_ts}x, RSS ${ratios.rss_ts}x`,
  `app (createApp on SQLite): node dist/main.js ready ${round(appNode.readyMs)} ms, RSS ${round(appNode.rssMb)} MiB` +
    (appExe === undefined
      ? "; single executable skipped (--no-exe)"
      : `; single executable ready ${round(appExe.readyMs)} ms, RSS ${round(appExe.rssMb)} MiB, file ${round(exeBytes / 1048576)} MiB`),
]);
