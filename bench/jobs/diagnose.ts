/**
 * Where the jobs' time goes: runs chosen processing runs of bench:jobs with instruments and prints
 * what they show. Not a benchmark (it perturbs what it measures: a 10 ms sampler, CPU profiles);
 * its figures explain the benchmark's.
 *
 * PostgreSQL (`--pg`): on a private cluster started for the purpose with pg_stat_statements (the
 * shared server is never reconfigured; the cluster is removed at the end): WAL per job, statements
 * by total time, round trips, NOTIFYs, index growth and scans, backends' wait events and lock
 * waits, CPU µs per job in PostgreSQL and Node, and the workers' CPU profiles by self time.
 * SQLite (`--sqlite`): tend's worker in the enqueuing process, in another, in three, with and
 * without the enqueuer reading stats, in rotation; worker CPU use and profiles.
 *
 * `npm exec -- node bench/jobs/diagnose.ts --pg --sqlite [--jobs N] [--runs N] [--port P]`
 * (`--instrumented-only`: SQLite profiles and syscall counts without the timed rotation;
 * `--only tend,graphile` and `--procs 1,4`: only the PostgreSQL scenarios of those systems' modules
 * and worker process counts; `--keyed`: instead, tend's plain run beside its keyed one)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { postgresUrl } from "../../test/support/postgres.ts";
import { median } from "../_support/report.ts";
import {
  GRAPHILE,
  PGBOSS,
  type SystemSpec,
  TEND_DEFAULTS,
  TEND_SQLITE_DEFAULTS,
  TEND_SQLITE_FULL,
  TEND_TUNED,
} from "./catalogue.ts";
import { cleanupAll, cleanupOnSignals } from "./cleanup.ts";
import { nowMs } from "./clock.ts";
import { summariseProfiles, top } from "./cpu-profile.ts";
import { CHANNELS, type PgDiagnosis, pgDiagnosisHooks } from "./pg-diagnosis.ts";
import { startPrivateCluster } from "./private-cluster.ts";
import { keyedSpec } from "./keyed.ts";
import { type ProcessResult, processRun, type RunHooks } from "./runs.ts";

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(argv[at + 1]);
};
const JOBS = arg("jobs", 50_000);
const SQLITE_JOBS = arg("sqlite-jobs", 20_000);
const RUNS = arg("runs", 3);
const PORT = arg("port", 55433);
/** `--name a,b`: the listed values, or undefined (no filter). */
const list = (name: string): string[] | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? undefined : (argv[at + 1] ?? "").split(",");
};
const ONLY = list("only");
const PROCS = list("procs")?.map(Number);
const say = (line = ""): void => {
  process.stdout.write(`${line}\n`);
};
const fmt = (v: number, digits = 1): string => v.toFixed(digits);

function profileDir(): { dir: string; execArgv: string[]; files(): string[] } {
  const dir = mkdtempSync(join(tmpdir(), "tend-diag-prof-"));
  return {
    dir,
    execArgv: ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval=250"],
    files: () =>
      readdirSync(dir)
        .filter((f) => f.endsWith(".cpuprofile"))
        .map((f) => join(dir, f)),
  };
}

function printProfile(files: string[], window: { fromMs: number; toMs: number }, jobs: number): void {
  const summary = summariseProfiles(files, window);
  const busy = summary.totalMs - (summary.byCategory.get("idle") ?? 0);
  say(
    `  CPU profile (${files.length} process(es), processing window only): ${fmt(summary.totalMs)} ms sampled, ${fmt(busy)} ms busy = ${fmt((busy * 1000) / jobs, 1)} µs/job`,
  );
  say(
    `    by part: ${top(summary.byCategory, 12)
      .map(([k, v]) => `${k} ${fmt((100 * v) / summary.totalMs)}%`)
      .join(", ")}`,
  );
  say("    top functions by self time (% of busy):");
  for (const [k, v] of top(summary.byFunction, Number(process.env["DIAG_TOP"] ?? 16)).filter(
    ([k]) => k !== "(idle)",
  ))
    say(`      ${fmt((100 * v) / busy).padStart(5)}%  ${k}`);
}

function printPg(label: string, r: ProcessResult, d: PgDiagnosis, jobs: number): void {
  say(`\n### ${label}`);
  say(
    `  ${fmt(r.processRate, 0)} jobs/s over ${fmt(r.seconds, 2)} s; CPU per job: Node ${fmt(r.nodeCpuUs)} µs, PostgreSQL ${fmt(r.pgCpuUs ?? 0)} µs`,
  );
  say(`  WAL: ${fmt(d.walBytes / jobs, 0)} bytes per job (${fmt(d.walBytes / 1e6, 1)} MB)`);
  const top = d.statements.filter((s) => s.toplevel);
  const calls = top.reduce((sum, s) => sum + s.calls, 0);
  say(`  round trips (top-level statements): ${calls} = ${fmt(calls / jobs, 3)} per job`);
  const heard = [...d.notifications.entries()];
  say(
    `  notifications heard on the system's channels during the run: ${heard.length === 0 ? "none" : heard.map(([c, n]) => `${c} ${n}`).join(", ")}`,
  );
  say("  statements by total time (top-level):");
  for (const s of top.slice(0, 8))
    say(
      `    ${fmt(s.totalMs, 0).padStart(6)} ms ${String(s.calls).padStart(6)} calls ${String(s.rows).padStart(7)} rows  ${fmt((s.totalMs * 1000) / jobs, 1).padStart(5)} µs/job  WAL ${fmt(s.walBytes / Math.max(1, s.rows), 0)} B/row  ${fmt(s.blocks / Math.max(1, s.rows), 1)} buffers/row  ${s.query.slice(0, 90)}`,
    );
  for (const t of d.tables)
    say(
      `  table ${t.name}: ${t.ins} inserts, ${t.upd} updates (${t.hotUpd} HOT), ${t.del} deletes, ${t.seqScans} seq scans`,
    );
  for (const i of d.indexes.filter((i) => i.scans > 0 || i.bytesGrown !== 0))
    say(
      `  index ${i.name}: ${i.scans} scans, ${i.tuplesRead} entries read (${fmt(i.tuplesRead / jobs, 2)}/job), grew ${fmt(i.bytesGrown / jobs, 1)} B/job`,
    );
  const sampled = [...d.waits.entries()].sort((a, b) => b[1] - a[1]);
  const total = sampled.reduce((n, [, c]) => n + c, 0);
  say(
    `  backends sampled every 10 ms (${d.samples} samples; lock waits in ${d.lockWaitSamples}): ${sampled
      .slice(0, 12)
      .map(([w, c]) => `${w} ${fmt((100 * c) / total)}%`)
      .join("; ")}`,
  );
}

async function pgPhase(): Promise<void> {
  const cluster = await startPrivateCluster(PORT, postgresUrl());
  process.env["TEND_TEST_POSTGRES_URL"] = cluster.url;
  say(`# PostgreSQL diagnosis: private cluster on port ${PORT}, ${JOBS} jobs a run`);
  const scenarios: Array<{ label: string; spec: SystemSpec; processes: number }> = [
    { label: "tend-postgres (prefetch 500), 1 worker process", spec: TEND_TUNED, processes: 1 },
    { label: "tend-postgres (defaults), 1 worker process", spec: TEND_DEFAULTS, processes: 1 },
    { label: "graphile-worker, 1 worker process", spec: GRAPHILE, processes: 1 },
    { label: "pg-boss, 1 worker process", spec: PGBOSS, processes: 1 },
    { label: "tend-postgres (prefetch 500), 4 worker processes sharing it", spec: TEND_TUNED, processes: 4 },
    { label: "graphile-worker, 4 worker processes sharing it", spec: GRAPHILE, processes: 4 },
    {
      label: "tend-postgres, 4 worker processes each at concurrency 50 + prefetch 500",
      spec: { ...TEND_TUNED, options: () => TEND_TUNED.options(1, 0) },
      processes: 4,
    },
  ];
  // `--keyed`: the plain run and the keyed phase's (1,000 keys of limit 2), side by side.
  if (argv.includes("--keyed"))
    scenarios.splice(0, scenarios.length, scenarios[0]!, {
      label: "tend-postgres (prefetch 500), 1,000 concurrency keys of limit 2, 1 worker process",
      spec: keyedSpec("postgres", 1_000, 2),
      processes: 1,
    });
  const chosen = scenarios.filter(
    (s) =>
      (ONLY === undefined || ONLY.includes(s.spec.module)) &&
      (PROCS === undefined || PROCS.includes(s.processes)),
  );
  try {
    for (const s of chosen) {
      const prof = profileDir();
      const d: Partial<PgDiagnosis> = {};
      const r = await processRun({
        spec: s.spec,
        jobs: JOBS,
        chunk: 5_000,
        processes: s.processes,
        analyze: true,
        workerExecArgv: prof.execArgv,
        hooks: pgDiagnosisHooks(cluster.url, d, CHANNELS[s.spec.module] ?? []),
        timeoutMs: 600_000,
      });
      printPg(s.label, r, d as PgDiagnosis, JOBS);
      printProfile(prof.files(), { fromMs: d.fromMs!, toMs: d.toMs! }, JOBS);
      rmSync(prof.dir, { recursive: true, force: true });
    }
  } finally {
    delete process.env["TEND_TEST_POSTGRES_URL"];
    await cluster.stop();
  }
}

interface SqliteCase {
  label: string;
  spec: SystemSpec;
  processes: number;
  statsEveryMs?: number;
}

/** One tend-sqlite run of `c`, with instruments (Node flags, hooks) if given. */
function sqliteRun(c: SqliteCase, extra: { workerExecArgv?: string[]; hooks?: RunHooks } = {}) {
  return processRun({
    spec: c.spec,
    jobs: SQLITE_JOBS,
    chunk: 5_000,
    processes: c.processes,
    analyze: false,
    ...(c.statsEveryMs === undefined ? {} : { statsEveryMs: c.statsEveryMs }),
    ...extra,
    timeoutMs: 600_000,
  });
}

async function sqlitePhase(): Promise<void> {
  say(`\n# SQLite diagnosis: tend-sqlite (FULL), ${SQLITE_JOBS} jobs a run, ${RUNS} runs each, rotated`);
  const cases: SqliteCase[] = [];
  for (const spec of [TEND_SQLITE_FULL, TEND_SQLITE_DEFAULTS]) {
    cases.push(
      { label: `${spec.name}: worker in the enqueuing process`, spec, processes: 0 },
      { label: `${spec.name}: 1 worker process`, spec, processes: 1 },
      {
        label: `${spec.name}: 1 worker process, enqueuer reads stats every 20 ms`,
        spec,
        processes: 1,
        statsEveryMs: 20,
      },
      { label: `${spec.name}: 3 worker processes`, spec, processes: 3 },
      {
        label: `${spec.name}: 3 worker processes, enqueuer reads stats every 20 ms`,
        spec,
        processes: 3,
        statsEveryMs: 20,
      },
    );
  }
  const results = new Map(cases.map((c) => [c, [] as ProcessResult[]]));
  for (let rep = 0; rep < (argv.includes("--instrumented-only") ? 0 : RUNS); rep++)
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + rep) % cases.length]!;
      results.get(c)!.push(await sqliteRun(c));
    }
  for (const c of cases.filter((c) => results.get(c)!.length > 0)) {
    const rs = results.get(c)!;
    const busy = rs.map((r) => (r.nodeCpuUs * SQLITE_JOBS) / 1e6 / r.seconds / Math.max(1, c.processes));
    const stats = rs.map((r) => r.statsReads).filter((x) => x !== undefined);
    const lost = median(rs.map((r) => r.counters["lostLeases"] ?? 0));
    say(
      `  ${c.label}: ${rs.map((r) => fmt(r.processRate, 0)).join(" / ")} jobs/s (median ${fmt(median(rs.map((r) => r.processRate)), 0)}); worker CPU ${fmt(median(rs.map((r) => r.nodeCpuUs)))} µs/job, each worker busy ${fmt(100 * median(busy), 0)}% of the run; "lost lease" warnings ${fmt(lost, 0)}${
        stats.length === 0
          ? ""
          : `; stats reads: ${fmt(median(stats.map((s) => s.count)), 0)} taking ${fmt(median(stats.map((s) => s.busyMs / s.count)), 2)} ms each`
      }`,
    );
  }
  // Profiles of the worker of the single-process cases (one run each).
  for (const c of cases.filter((c) => c.spec === TEND_SQLITE_FULL && c.processes > 0)) {
    const prof = profileDir();
    const window = { fromMs: 0, toMs: 0 };
    const r = await sqliteRun(c, {
      workerExecArgv: prof.execArgv,
      hooks: {
        beforeWork: async () => {
          window.fromMs = nowMs();
        },
        afterDone: async () => {
          window.toMs = nowMs();
        },
      },
    });
    say(`\n### ${c.label} (profiled: ${fmt(r.processRate, 0)} jobs/s)`);
    printProfile(prof.files(), window, SQLITE_JOBS);
    rmSync(prof.dir, { recursive: true, force: true });
    const calls: Array<{ syscall: string; calls: number; seconds: number }> = [];
    const traced = await sqliteRun(c, { hooks: straceHooks(calls) });
    say(
      `  under strace -c (${fmt(traced.processRate, 0)} jobs/s): per job ${calls
        .sort((a, b) => b.calls - a.calls)
        .filter(
          (x, i) =>
            i < 6 || ["fdatasync", "fsync", "clock_nanosleep", "nanosleep", "fcntl"].includes(x.syscall),
        )
        .map((x) => `${x.syscall} ${fmt(x.calls / SQLITE_JOBS, 2)} (${fmt(x.seconds * 1000, 0)} ms)`)
        .join(", ")}`,
    );
  }
}

/** Attaches `strace -c` to the workers for the processing window; returns its summary rows. */
function straceHooks(out: Array<{ syscall: string; calls: number; seconds: number }>): RunHooks {
  let tracer: ChildProcess | null = null;
  let file = "";
  return {
    async beforeWork(_db, pids) {
      file = join(mkdtempSync(join(tmpdir(), "tend-diag-strace-")), "summary.txt");
      tracer = spawn("strace", ["-c", "-w", "-f", "-o", file, ...pids.flatMap((p) => ["-p", String(p)])], {
        stdio: "ignore",
      });
      // strace attaches asynchronously; give it a moment before the work starts.
      await new Promise((resolve) => setTimeout(resolve, 300));
    },
    async afterDone() {
      const t = tracer!;
      const exited = new Promise((resolve) => t.once("exit", resolve));
      t.kill("SIGINT");
      await exited;
      for (const line of readFileSync(file, "utf8").split("\n")) {
        const m = /^\s*[0-9.]+\s+([0-9.]+)\s+[0-9]+\s+([0-9]+)\s+(?:[0-9]+\s+)?([a-z_0-9]+)\s*$/.exec(line);
        if (m !== null) out.push({ syscall: m[3]!, calls: Number(m[2]), seconds: Number(m[1]) });
      }
      rmSync(dirname(file), { recursive: true, force: true });
    },
  };
}

cleanupOnSignals();
try {
  if (argv.includes("--pg")) await pgPhase();
  if (argv.includes("--sqlite")) await sqlitePhase();
} catch (err) {
  process.stderr.write(`diagnose failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
