/**
 * Jobs benchmark: tend (PostgreSQL and SQLite) against graphile-worker and pg-boss on the same
 * PostgreSQL server, each on its own fresh database.
 *
 * Per system: bulk enqueue of N no-op jobs (jobs/s); ANALYZE of its job table; a CHECKPOINT;
 * processing with concurrency 50 in this process until every job is recorded complete (jobs/s;
 * median of 3 runs, each on a fresh database, the systems' order rotating each run); latency from
 * enqueue to handler start at low load (p50, p99); and, for tend, rescue of a SIGKILLed worker's
 * job (time after the lease lapsed).
 *
 * `npm run bench:jobs` (add `--smoke` for a tiny run, `--json` for the JSON line,
 * `--only=tend-postgres,graphile-worker` to run some systems, `--phases=latency,rescue` to run
 * some measurements, `--jobs=N` and `--reps=N` to change sizes, `--pgboss-batch=N`).
 */
import { median, parseFlags, quantile, type Row, report } from "./_support/report.ts";
import { cleanupAll, cleanupOnSignals } from "./jobs/cleanup.ts";
import { graphileHarness } from "./jobs/graphile.ts";
import { checkpoint } from "./jobs/pg-admin.ts";
import { PGBOSS_BATCH, pgbossHarness } from "./jobs/pgboss.ts";
import { measureRescue } from "./jobs/rescue.ts";
import type { BenchSettings, HarnessFactory } from "./jobs/system.ts";
import { tendHarness } from "./jobs/tend.ts";

const flags = parseFlags();
// tend's stores log through the default logger: keep migrations' info lines off stdout.
process.env["TEND_LOG_LEVEL"] ??= "warn";
const benchStarted = performance.now();
const argValue = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const size = flags.smoke
  ? { jobs: 500, chunk: 500, reps: 1, samples: 30, warmup: 3, warmupJobs: 0 }
  : { jobs: 50_000, chunk: 5_000, reps: 3, samples: 500, warmup: 20, warmupJobs: 2_000 };
if (argValue("jobs") !== undefined) size.jobs = Number(argValue("jobs"));
if (argValue("reps") !== undefined) size.reps = Number(argValue("reps"));
const LEASE_MS = 2_000;
const pgbossBatch = Number(argValue("pgboss-batch") ?? PGBOSS_BATCH);
const settings: BenchSettings = { concurrency: 50, timeoutMs: flags.smoke ? 30_000 : 600_000 };

interface SystemSpec {
  name: string;
  factory: HarnessFactory;
  analyze: boolean;
  latency: boolean;
}

const allSystems: SystemSpec[] = [
  { name: "tend-postgres", factory: tendHarness("postgres", settings), analyze: true, latency: true },
  {
    name: "tend-postgres (unanalyzed)",
    factory: tendHarness("postgres", settings),
    analyze: false,
    latency: false,
  },
  { name: "tend-sqlite", factory: tendHarness("sqlite", settings), analyze: true, latency: true },
  { name: "graphile-worker", factory: graphileHarness(settings), analyze: true, latency: true },
  { name: "pg-boss", factory: pgbossHarness(settings, pgbossBatch), analyze: true, latency: true },
];
const only = argValue("only")?.split(",");
const phases = new Set((argValue("phases") ?? "process,latency,rescue").split(","));
const systems = only === undefined ? allSystems : allSystems.filter((s) => only.includes(s.name));

const progress = (line: string): void => {
  process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(1)} s] ${line}\n`);
};

async function main(): Promise<void> {
  const rows: Row[] = [];
  const enqueueRates = new Map<string, number[]>();
  const processRates = new Map<string, number[]>();
  // An untimed small run per system first, so that no system pays for loading and compiling code.
  for (const system of size.warmupJobs > 0 && phases.has("process") ? systems : []) {
    const harness = await system.factory();
    try {
      await harness.load(size.warmupJobs, size.chunk);
      await harness.process(size.warmupJobs);
    } finally {
      await harness.close();
    }
    progress(`warmed up ${system.name}`);
  }
  // Repetitions interleave the systems, so that drift on the shared machine hits all alike.
  // The order rotates by one each repetition, so that no system always follows the same one.
  for (let rep = 1; rep <= (phases.has("process") ? size.reps : 0); rep++) {
    const order = systems.map((_, i) => systems[(i + rep - 1) % systems.length]!);
    for (const system of order) {
      const harness = await system.factory();
      try {
        const loadMs = await harness.load(size.jobs, size.chunk);
        if (system.analyze) await harness.analyze();
        await checkpoint();
        const processMs = await harness.process(size.jobs);
        const enqueueRate = (size.jobs / loadMs) * 1000;
        const processRate = (size.jobs / processMs) * 1000;
        enqueueRates.set(system.name, [...(enqueueRates.get(system.name) ?? []), enqueueRate]);
        processRates.set(system.name, [...(processRates.get(system.name) ?? []), processRate]);
        progress(
          `run ${rep}/${size.reps} ${system.name}: enqueue ${enqueueRate.toFixed(0)} jobs/s, process ${processRate.toFixed(0)} jobs/s`,
        );
      } finally {
        await harness.close();
      }
    }
  }
  for (const system of phases.has("process") ? systems : []) {
    rows.push({
      system: system.name,
      metric: `enqueue ${size.jobs} in bulk`,
      value: median(enqueueRates.get(system.name)!),
      unit: "jobs/s",
    });
    rows.push({
      system: system.name,
      metric: `process ${size.jobs}, concurrency ${settings.concurrency}`,
      value: median(processRates.get(system.name)!),
      unit: "jobs/s",
    });
  }
  for (const system of systems.filter((s) => s.latency && phases.has("latency"))) {
    const harness = await system.factory();
    try {
      const samples = await harness.latency(size.samples, size.warmup);
      const p50 = quantile(samples, 0.5);
      const p99 = quantile(samples, 0.99);
      progress(`latency ${system.name}: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
      rows.push({ system: system.name, metric: "latency p50", value: p50, unit: "ms" });
      rows.push({ system: system.name, metric: "latency p99", value: p99, unit: "ms" });
    } finally {
      await harness.close();
    }
  }
  // Both drivers at once: each run mostly waits for its lease to lapse.
  const drivers = (["postgres", "sqlite"] as const).filter(
    (driver) => phases.has("rescue") && systems.some((s) => s.name === `tend-${driver}`),
  );
  const rescues = await Promise.all(drivers.map((driver) => measureRescue(driver, LEASE_MS)));
  drivers.forEach((driver, i) => {
    const rescueMs = rescues[i]!;
    progress(`rescue tend-${driver}: ${rescueMs.toFixed(0)} ms after SIGKILL (lease ${LEASE_MS} ms)`);
    rows.push({
      system: `tend-${driver}`,
      metric: `rescue after SIGKILL minus lease (${LEASE_MS} ms)`,
      value: rescueMs - LEASE_MS,
      unit: "ms",
    });
  });
  const value = (system: string, metric: string): number | undefined =>
    rows.find((r) => r.system === system && r.metric.startsWith(metric))?.value;
  const ratios: Record<string, number> = {};
  const tendNames = ["tend-postgres", "tend-postgres (unanalyzed)", "tend-sqlite"];
  const peers = ["graphile-worker", "pg-boss"];
  for (const metric of ["process", "enqueue"]) {
    for (const tend of tendNames) {
      for (const peer of peers) {
        const a = value(tend, metric);
        const b = value(peer, metric);
        if (a !== undefined && b !== undefined) ratios[`${metric} ${tend} / ${peer}`] = a / b;
      }
    }
  }
  for (const tend of ["tend-postgres", "tend-sqlite"]) {
    for (const peer of peers) {
      const a = value(tend, "latency p50");
      const b = value(peer, "latency p50");
      if (a !== undefined && b !== undefined) ratios[`latency p50 ${peer} / ${tend}`] = b / a;
    }
  }
  const notes = [
    `${size.jobs} no-op jobs per run, enqueued in calls of ${size.chunk}; processing is the median of ${size.reps} run(s), each on a fresh database after ANALYZE of the job table (except the unanalyzed row) and a CHECKPOINT, the systems' order rotating each run; a run ends when every job is recorded complete in the database`,
    `latency: ${size.samples} single jobs (after ${size.warmup} warm-up), one at a time with 5-10 ms gaps, from before the enqueue call to handler start`,
    `graphile-worker: its perfTest settings (localQueue 500, refetchDelay 10 ms, completeJobBatchDelay 0, failJobBatchDelay 0, a pool of concurrency+1) for throughput; its latencyTest settings (concurrency 1, no local queue) for latency`,
    `pg-boss ${"10"}: work() with batchSize ${pgbossBatch}, pollingIntervalSeconds 0.5 (its minimum; v10 polls, no LISTEN), batch handled 50 at a time; after each batch it sleeps out the interval, so its rate is about batchSize / 0.5 s (try --pgboss-batch=N)`,
    ...targets(value),
  ];
  report("jobs", rows, ratios, flags, notes);
}

function targets(value: (system: string, metric: string) => number | undefined): string[] {
  const out: string[] = [];
  const check = (
    label: string,
    actual: number | undefined,
    ok: (v: number) => boolean,
    shown: string,
  ): void => {
    if (actual === undefined) return;
    out.push(`target ${label}: ${shown} -> ${ok(actual) ? "met" : "NOT MET"}`);
  };
  const tp = value("tend-postgres", "process");
  const gw = value("graphile-worker", "process");
  const pb = value("pg-boss", "process");
  if (tp !== undefined && gw !== undefined)
    check(
      "process tend-postgres >= 1.5x graphile-worker",
      tp / gw,
      (r) => r >= 1.5,
      `${(tp / gw).toFixed(2)}x`,
    );
  if (tp !== undefined && pb !== undefined)
    check("process tend-postgres >= 3x pg-boss", tp / pb, (r) => r >= 3, `${(tp / pb).toFixed(2)}x`);
  const lp = value("tend-postgres", "latency p50");
  check("latency p50 <= 5 ms on PostgreSQL", lp, (v) => v <= 5, `${lp?.toFixed(2)} ms`);
  const ls = value("tend-sqlite", "latency p50");
  check("latency p50 <= 2 ms on SQLite", ls, (v) => v <= 2, `${ls?.toFixed(2)} ms`);
  for (const driver of ["postgres", "sqlite"]) {
    const r = value(`tend-${driver}`, "rescue");
    check(`rescue within lease + 5 s (${driver})`, r, (v) => v <= 5_000, `lease + ${r?.toFixed(0)} ms`);
  }
  return out;
}

cleanupOnSignals();
try {
  await main();
} catch (err) {
  process.stderr.write(`bench jobs failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
