/**
 * Supervisor benchmark, side by side in one run (an SQLite file in a temporary folder, and a fresh
 * PostgreSQL database when the test server is reachable):
 *
 *   - replacement time: a ready worker is SIGKILLed; time until its replacement is ready (with the
 *     warm spare, the default, and without), against the bare baseline of forking a minimal Node
 *     process until it says "ready" over IPC;
 *   - scale-up time: from a backlog appearing in the store to the fleet being at max and ready;
 *   - throughput of a backlog of short CPU-bound jobs (20,000 of 1 ms; smoke: 500) with 1 worker
 *     (min = max = 1) against the autoscaled fleet (min 1, max = cores), on each store;
 *   - the cost of the orphan watchdog thread each worker runs: its start time, the resident memory
 *     and the idle CPU it adds (measured in fresh processes).
 *
 *   - the same worker program run alone (a plain `node program.ts`, no supervisor), for the
 *     supervised worker's cost;
 *
 * Alone and supervised run in pairs (5 by default, the order alternating); the ratio reported is
 * the median of the pairs' ratios. Both are timed from a steady state: a first job completed, and
 * the supervisor's spare booted. `--ratio-only` runs just these pairs.
 *
 *   npm run bench:supervise [-- --smoke] [--json] [--max N] [--jobs N] [--runs N] [--ratio-only]
 */
import { fork, spawn } from "node:child_process";
import { once } from "node:events";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { createLogger } from "../src/log/logger.ts";
import { type NewJob, openStore, type Store } from "../src/store/index.ts";
import { createSupervisor, type Supervisor } from "../src/supervise/supervisor.ts";
import type { WorkerProcess } from "../src/supervise/worker-process.ts";
import { createTestDatabase } from "../test/support/postgres.ts";
import { makeTempDir } from "../test/support/tmp.ts";
import { median, parseFlags, type Row, report } from "./_support/report.ts";

const flags = parseFlags();
const argv = process.argv.slice(2);
const maxArg = argv.indexOf("--max");
const CORES = availableParallelism();
const MAX = maxArg >= 0 ? Number(argv[maxArg + 1]) : Math.max(2, CORES);
/** Only the supervised worker against the same worker alone (no replacement, watchdog or fleet rows). */
const ratioOnly = argv.includes("--ratio-only");
const jobsArg = argv.indexOf("--jobs");
const JOBS = jobsArg >= 0 ? Number(argv[jobsArg + 1]) : flags.smoke ? 500 : 20_000;
const JOB_MS = 1;
const KILLS = flags.smoke ? 2 : 7;
const PROGRAM = join(import.meta.dirname, "_supervise-app.ts");
const BARE = join(import.meta.dirname, "_supervise-bare.ts");
const WATCHDOG = join(import.meta.dirname, "_watchdog-cost.ts");
const LOG_LEVEL_ENV = "TEND_LOG_LEVEL";
process.env[LOG_LEVEL_ENV] ??= "warn";
const log = createLogger({ level: "silent" });
const workerEnv = { TEND_LOG_LEVEL: "silent" };

interface Backend {
  name: string;
  database: string;
  store: Store;
  close(): Promise<void>;
}

const tmp = await makeTempDir("tend-bench-supervise-");
const sqliteUrl = `sqlite:${join(tmp.dir, "tend.db")}`;
const sqlite: Backend = {
  name: "SQLite",
  database: sqliteUrl,
  store: await openStore(sqliteUrl),
  close: () => tmp.cleanup(),
};
const backends: Backend[] = [sqlite];
const notes: string[] = [];
try {
  const db = await createTestDatabase();
  const pgStore = await openStore(db.url);
  backends.push({
    name: "PostgreSQL",
    database: db.url,
    store: pgStore,
    close: async () => {
      await db.drop();
    },
  });
} catch (err) {
  notes.push(`PostgreSQL rows skipped: ${(err as Error).message}`);
}

function start(
  min: number,
  max: number,
  spare = true,
  backend: Backend = sqlite,
): { sup: Supervisor; stop: () => Promise<void> } {
  const sup = createSupervisor({
    program: PROGRAM,
    min,
    max,
    store: backend.store,
    database: backend.database,
    statusFile: null,
    log,
    env: workerEnv,
    stdio: "ignore",
    spare,
    scaling: { jobsPerWorker: 10 },
    // Kills are spaced beyond the stable uptime, so every replacement is a first one (no backoff).
    restart: { maxRestarts: 100, stableUptime: 500 },
  });
  const ac = new AbortController();
  const done = sup.run(ac.signal);
  return {
    sup,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

async function ready(sup: Supervisor, count: number): Promise<void> {
  while (sup.workers().filter((w) => w.state === "ready" && !w.planned).length < count)
    await once(sup, "change");
}

async function bareForkMs(): Promise<number> {
  const t0 = performance.now();
  const child = fork(BARE, [], { execArgv: [], stdio: "ignore" });
  await once(child, "message");
  const ms = performance.now() - t0;
  child.disconnect();
  await once(child, "exit");
  return ms;
}

function spinJobs(n: number): NewJob[] {
  return Array.from({ length: n }, () => ({
    kind: "spin",
    queue: "default",
    payload: JSON.stringify({ ms: JOB_MS }),
    priority: 0,
    runAt: new Date(),
    maxAttempts: 3,
    uniqueKey: null,
    batchId: null,
    batchIndex: null,
  }));
}

async function drained(s: Store): Promise<void> {
  for (;;) {
    const stats = await s.jobs.stats();
    if (stats.every((q) => q.available + q.running + q.retryable === 0)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the backlog with a fleet; returns jobs/s, the scale-up time and the peak worker count. */
async function throughput(
  min: number,
  max: number,
  backend: Backend,
): Promise<{ perSec: number; scaleUpMs: number; peak: number }> {
  const { store } = backend;
  const { sup, stop } = start(min, max, true, backend);
  await ready(sup, min);
  // The same steady state as throughputAlone: a job has completed (a worker says ready before its
  // job loop starts), and the spare has booted (its start is a one-off cost, not throughput).
  await store.jobs.insert(spinJobs(1));
  await drained(store);
  for (let waited = 0; !sup.spareReady && waited < 30_000; waited += 20)
    await new Promise((r) => setTimeout(r, 20));
  let peak = min;
  const track = (): void => {
    peak = Math.max(peak, sup.workers().filter((w) => w.state === "ready").length);
  };
  sup.on("change", track);
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i += 1_000) await store.jobs.insert(spinJobs(Math.min(1_000, JOBS - i)));
  let scaleUpMs = Number.NaN;
  const scaled = ready(sup, max).then(() => {
    scaleUpMs = performance.now() - t0;
  });
  await drained(store);
  const perSec = JOBS / ((performance.now() - t0) / 1_000);
  if (max > min) await Promise.race([scaled, new Promise((r) => setTimeout(r, 1))]);
  sup.off("change", track);
  await stop();
  return { perSec, scaleUpMs, peak };
}

/**
 * Runs the backlog with the worker program started alone (`node program.ts`, no supervisor, no
 * IPC); timed like `throughput`, from the backlog's first insert, once a warm-up job completed.
 */
async function throughputAlone(backend: Backend): Promise<number> {
  const { store } = backend;
  // Detached, as the supervisor forks its workers: a session of its own is a scheduling group of
  // its own where the kernel groups by session (autogroup), so under load both get the same share.
  const child = spawn(process.execPath, [PROGRAM], {
    env: { ...process.env, ...workerEnv, TEND_DATABASE_URL: backend.database },
    stdio: "ignore",
    detached: true,
  });
  try {
    await store.jobs.insert(spinJobs(1));
    await drained(store);
    const t0 = performance.now();
    for (let i = 0; i < JOBS; i += 1_000) await store.jobs.insert(spinJobs(Math.min(1_000, JOBS - i)));
    await drained(store);
    return JOBS / ((performance.now() - t0) / 1_000);
  } finally {
    child.kill("SIGTERM");
    if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
  }
}

const rows: Row[] = [];

// 1. Replacement after SIGKILL versus a bare fork, with the warm spare (default) and without.
async function replacements(spare: boolean): Promise<number[]> {
  const { sup, stop } = start(1, 1, spare);
  const times: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    // Steady state: a ready worker (and, by default, a booted spare).
    while (!(
      sup.workers().some((w) => w.state === "ready" && Date.now() - w.startedAt > 600) &&
      (!spare || sup.spareReady)
    )) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const victim = sup.workers().find((w) => w.state === "ready");
    if (victim === undefined) throw new Error("no ready worker");
    const t0 = performance.now();
    const next = new Promise<void>((resolve) => {
      const onReady = (w: WorkerProcess): void => {
        if (w.id === victim.id) return;
        sup.off("worker-ready", onReady);
        resolve();
      };
      sup.on("worker-ready", onReady);
    });
    process.kill(victim.pid, "SIGKILL");
    await next;
    times.push(performance.now() - t0);
  }
  await stop();
  return times;
}
if (!ratioOnly) {
  const bare: number[] = [];
  for (let i = 0; i < KILLS; i++) bare.push(await bareForkMs());
  const warm = await replacements(true);
  const cold = await replacements(false);
  rows.push({ system: "bare fork", metric: "process ready (median)", value: median(bare), unit: "ms" });
  rows.push({
    system: "tend supervise",
    metric: "SIGKILL to replacement ready (median)",
    value: median(warm),
    unit: "ms",
  });
  rows.push({
    system: "tend supervise, no spare",
    metric: "SIGKILL to replacement ready (median)",
    value: median(cold),
    unit: "ms",
  });
}

// 2. The orphan watchdog thread of every worker: start time, memory and idle CPU.
if (!ratioOnly) {
  const starts: number[] = [];
  const rss: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < (flags.smoke ? 1 : 5); i++) {
    const child = fork(WATCHDOG, [], { execArgv: [], stdio: "ignore" });
    const [m] = (await once(child, "message")) as [{ startMs: number; rssMb: number; cpuMsPerSec: number }];
    starts.push(m.startMs);
    rss.push(m.rssMb);
    cpu.push(m.cpuMsPerSec);
    await once(child, "exit");
  }
  const system = "orphan watchdog thread";
  rows.push({ system, metric: "start until running (median)", value: median(starts), unit: "ms" });
  rows.push({ system, metric: "resident memory added (median)", value: median(rss), unit: "MB" });
  rows.push({ system, metric: "CPU added while idle (median)", value: median(cpu), unit: "ms/s" });
}

// 3 and 4. Backlog throughput: one worker versus the autoscaled fleet; scale-up time; per store.
const runsArg = argv.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(argv[runsArg + 1]) : flags.smoke ? 1 : 5;
const ratios: Record<string, number> = {};
for (const backend of backends) {
  // Alone and supervised in pairs, the order alternating from one pair to the next; the ratio is
  // the median of the pairs' ratios (load that comes and goes hits both runs of a pair alike).
  const alone: number[] = [];
  const supervised: number[] = [];
  const paired: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let a: number;
    let s: number;
    if (r % 2 === 0) {
      a = await throughputAlone(backend);
      s = (await throughput(1, 1, backend)).perSec;
    } else {
      s = (await throughput(1, 1, backend)).perSec;
      a = await throughputAlone(backend);
    }
    alone.push(a);
    supervised.push(s);
    paired.push(s / a);
  }
  const single = { perSec: median(supervised) };
  const metric = `throughput, ${JOBS} x ${JOB_MS} ms jobs, ${backend.name}`;
  rows.push({ system: "1 worker alone (no supervisor)", metric, value: median(alone), unit: "jobs/s" });
  rows.push({ system: "1 worker", metric, value: single.perSec, unit: "jobs/s" });
  ratios[`supervised 1 worker / the same worker alone, ${backend.name} (median of ${RUNS} pairs)`] =
    median(paired);
  notes.push(`supervised / alone, ${backend.name}, each pair: ${paired.map((x) => x.toFixed(2)).join(", ")}`);
  if (ratioOnly) {
    await backend.store.close();
    await backend.close();
    continue;
  }
  const fleet = await throughput(1, MAX, backend);
  rows.push({ system: `autoscaled 1..${MAX}`, metric, value: fleet.perSec, unit: "jobs/s" });
  rows.push({
    system: `autoscaled 1..${MAX}`,
    metric: `backlog to max workers ready, ${backend.name}`,
    value: fleet.scaleUpMs,
    unit: "ms",
  });
  rows.push({
    system: `autoscaled 1..${MAX}`,
    metric: `peak ready workers, ${backend.name}`,
    value: fleet.peak,
    unit: "workers",
  });
  ratios[`fleet / 1 worker throughput, ${backend.name}`] = fleet.perSec / single.perSec;
  await backend.store.close();
  await backend.close();
}

const bareMs = rows.find((r) => r.system === "bare fork")?.value ?? Number.NaN;
const replaceMs = rows.find((r) => r.system === "tend supervise")?.value ?? Number.NaN;
const coldMs = rows.find((r) => r.system === "tend supervise, no spare")?.value ?? Number.NaN;
report(
  "supervise",
  rows,
  {
    ...(ratioOnly
      ? {}
      : {
          "replacement / bare fork": replaceMs / bareMs,
          "replacement without spare / bare fork": coldMs / bareMs,
        }),
    ...ratios,
  },
  flags,
  [
    `${CORES} cores; worker concurrency 4; scale interval 1 s (default); replacement measured on SQLite.`,
    "Replacement includes loading the app, opening the store and starting its tasks; the bare fork loads nothing.",
    "With the spare, Node, the TypeScript loader and tend's modules are already loaded when the worker dies.",
    ...notes,
  ],
);
