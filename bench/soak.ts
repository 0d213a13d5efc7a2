/**
 * Soak benchmark: does a long-running app's memory grow with its work?
 *
 * One app process (bench/_soak-app.ts, run with --expose-gc) runs for the whole duration: it
 * enqueues jobs steadily (SOAK rate, 500 jobs/s; smoke 200) and works them, a converger reconciles
 * the `soak_item` table, which this process changes ten times a second, and an inbox processes the
 * files this process drops into it ten times a second (finished files and outputs are swept away
 * every 10 s so that the folders stay small). Every few seconds the app collects garbage and
 * reports its RSS and heap. After a warm-up (a fifth of the run, at least 10 s), a least-squares
 * line through the samples gives the growth per 100,000 jobs and per hour, each with its noise band
 * (two standard errors of the slope). Goal: no growth beyond noise per 100,000 jobs.
 *
 *   npm run bench:soak [-- --smoke] [--minutes N] [--driver sqlite|postgres] [--rate N] [--json]
 *
 * Default: 3 minutes on SQLite. --smoke: 30 s (figures not meaningful).
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { createTestDatabase } from "../test/support/postgres.ts";
import { makeTempDir } from "../test/support/tmp.ts";
import type { SoakSample } from "./_soak-app.ts";
import { parseFlags, type Row, report } from "./_support/report.ts";
import { fitLine } from "./_support/slope.ts";

const flags = parseFlags();
const { values } = parseArgs({
  options: {
    smoke: { type: "boolean" },
    json: { type: "boolean" },
    minutes: { type: "string" },
    driver: { type: "string", default: "sqlite" },
    rate: { type: "string" },
  },
});
const driver = values.driver;
if (driver !== "sqlite" && driver !== "postgres")
  throw new Error(`--driver must be sqlite or postgres, got ${driver}`);
const durationMs = flags.smoke ? 30_000 : Number(values.minutes ?? "3") * 60_000;
if (!(durationMs > 0)) throw new Error(`--minutes must be a positive number, got ${values.minutes}`);
const warmupMs = Math.max(10_000, durationMs / 5);
const sampleMs = flags.smoke ? 1_000 : Math.min(10_000, Math.max(2_000, durationMs / 60));
const rate = Number(values.rate ?? (flags.smoke ? 200 : 500));
const ITEMS = 500;
const APP = join(import.meta.dirname, "_soak-app.ts");
const MB = 1024 * 1024;

/** The benchmark's own handle on the app's table: create it, then change rows. */
interface Table {
  change(id: number): Promise<void>;
  close(): Promise<void>;
}

async function openTable(url: string): Promise<Table> {
  if (url.startsWith("sqlite:")) {
    const db = new DatabaseSync(url.slice("sqlite:".length), { timeout: 10_000 });
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(
      "CREATE TABLE soak_item (id INTEGER PRIMARY KEY, wanted INTEGER NOT NULL, actual INTEGER NOT NULL)",
    );
    const insert = db.prepare("INSERT INTO soak_item (id, wanted, actual) VALUES (?, 0, 0)");
    for (let id = 1; id <= ITEMS; id++) insert.run(id);
    const update = db.prepare("UPDATE soak_item SET wanted = wanted + 1 WHERE id = ?");
    return {
      change: async (id) => {
        update.run(id);
      },
      close: async () => db.close(),
    };
  }
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  await client.query(
    "CREATE TABLE soak_item (id integer PRIMARY KEY, wanted integer NOT NULL, actual integer NOT NULL)",
  );
  await client.query(
    "INSERT INTO soak_item (id, wanted, actual) SELECT g, 0, 0 FROM generate_series(1, $1) g",
    [ITEMS],
  );
  return {
    change: async (id) => {
      await client.query("UPDATE soak_item SET wanted = wanted + 1 WHERE id = $1", [id]);
    },
    close: () => client.end(),
  };
}

/** Runs `fn` every `ms` until stopped (never overlapping); the stop resolves once the last run ended. */
function repeat(ms: number, fn: () => Promise<void>): () => Promise<void> {
  const stop = new AbortController();
  const loop = (async () => {
    while (!stop.signal.aborted) {
      const started = Date.now();
      await fn();
      const wait = ms - (Date.now() - started);
      if (wait > 0) await sleep(wait, undefined, { signal: stop.signal }).catch(() => {});
    }
  })();
  return async () => {
    stop.abort();
    await loop;
  };
}

const tmp = await makeTempDir("tend-bench-soak-");
const cleanups: Array<() => Promise<unknown>> = [() => tmp.cleanup()];
let app: ChildProcess | null = null;
const samples: SoakSample[] = [];
try {
  let url: string;
  if (driver === "sqlite") url = `sqlite:${join(tmp.dir, "tend.db")}`;
  else {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    url = db.url;
  }
  const table = await openTable(url);
  cleanups.push(() => table.close());
  const inbox = join(tmp.dir, "inbox");
  const out = join(tmp.dir, "out");
  await mkdir(inbox, { recursive: true });
  await mkdir(out, { recursive: true });

  app = fork(APP, [], {
    execArgv: ["--expose-gc"],
    env: {
      ...process.env,
      TEND_DATABASE_URL: url,
      TEND_LOG_LEVEL: process.env["TEND_LOG_LEVEL"] ?? "warn",
      TEND_LOG_PRETTY: "0",
      SOAK_INBOX: inbox,
      SOAK_OUT: out,
      SOAK_RATE: String(rate),
      SOAK_SAMPLE_MS: String(sampleMs),
    },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const exited = once(app, "exit");
  app.on("message", (m) => samples.push(m as SoakSample));
  await new Promise<void>((resolve, reject) => {
    app!.once("message", () => resolve());
    app!.once("exit", (code) => reject(new Error(`the soak app exited (${code}) before its first sample`)));
  });
  const started = Date.now();
  let fileNo = 0;
  const stops = [
    repeat(100, async () => {
      const name = `f-${fileNo++}.txt`;
      await writeFile(join(inbox, `.${name}`), `${name}\n${"x".repeat(200)}\n`);
      await rename(join(inbox, `.${name}`), join(inbox, name));
    }),
    repeat(100, () => table.change(1 + Math.floor(Math.random() * ITEMS))),
    repeat(10_000, async () => {
      const done = join(inbox, "done");
      for (const name of await readdir(done).catch(() => [])) await rm(join(done, name), { force: true });
      for (const name of await readdir(out))
        if (!name.startsWith(".")) await rm(join(out, name), { force: true });
    }),
  ];
  let lastLog = started;
  while (Date.now() - started < durationMs) {
    await sleep(1_000);
    if (app.exitCode !== null) throw new Error(`the soak app exited (${app.exitCode}) during the run`);
    if (Date.now() - lastLog >= 30_000) {
      lastLog = Date.now();
      const last = samples.at(-1);
      process.stderr.write(
        `soak: ${Math.round((Date.now() - started) / 1000)} s, ${last?.jobs ?? 0} jobs, rss ${((last?.rss ?? 0) / MB).toFixed(1)} MB\n`,
      );
    }
  }
  const endedAt = Date.now();
  for (const stop of stops) await stop();
  app.kill("SIGTERM");
  const [code] = (await exited) as [number | null];
  if (code !== 0) throw new Error(`the soak app exited ${code} on SIGTERM`);
  app = null;

  const first = samples[0]!;
  const steady = samples.filter((s) => s.at - first.at >= warmupMs && s.at <= endedAt);
  if (steady.length < 3) throw new Error(`only ${steady.length} samples after the warm-up: run longer`);
  const last = steady.at(-1)!;
  const s0 = steady[0]!;
  const seconds = (last.at - s0.at) / 1000;
  const jobs = last.jobs - s0.jobs;
  const per100k = (values: number[]) => {
    const fit = fitLine(
      steady.map((s) => s.jobs),
      values,
    );
    return {
      growth: (fit.slope * 100_000) / MB,
      noise: (2 * fit.slopeStdError * 100_000) / MB,
      sd: fit.residualStdDev / MB,
    };
  };
  const perHour = (values: number[]) => {
    const fit = fitLine(
      steady.map((s) => (s.at - s0.at) / 3_600_000),
      values,
    );
    return { growth: fit.slope / MB, noise: (2 * fit.slopeStdError) / MB };
  };
  const rssJobs = per100k(steady.map((s) => s.rss));
  const heapJobs = per100k(steady.map((s) => s.heapUsed));
  const dataJobs = per100k(steady.map((s) => s.heapUsed - s.codeUsed));
  const codeJobs = per100k(steady.map((s) => s.codeUsed));
  const externalJobs = per100k(steady.map((s) => s.external));
  const rssHour = perHour(steady.map((s) => s.rss));
  const heapHour = perHour(steady.map((s) => s.heapUsed));
  const system = `tend-${driver}`;
  const rows: Row[] = [
    { system, metric: "run after warm-up", value: seconds, unit: "s" },
    { system, metric: "samples after warm-up", value: steady.length, unit: "samples" },
    { system, metric: "jobs processed after warm-up", value: jobs, unit: "jobs" },
    { system, metric: "job rate", value: jobs / seconds, unit: "jobs/s" },
    { system, metric: "inbox files processed after warm-up", value: last.files - s0.files, unit: "files" },
    { system, metric: "converge runs after warm-up", value: last.converges - s0.converges, unit: "runs" },
    { system, metric: "RSS at the end", value: last.rss / MB, unit: "MB" },
    { system, metric: "heap used at the end", value: last.heapUsed / MB, unit: "MB" },
    { system, metric: "RSS growth per 100k jobs", value: rssJobs.growth, unit: "MB" },
    { system, metric: "RSS noise band per 100k jobs (±2 SE)", value: rssJobs.noise, unit: "MB" },
    { system, metric: "heap growth per 100k jobs", value: heapJobs.growth, unit: "MB" },
    { system, metric: "heap noise band per 100k jobs (±2 SE)", value: heapJobs.noise, unit: "MB" },
    {
      system,
      metric: "heap growth per 100k jobs: objects (all but code)",
      value: dataJobs.growth,
      unit: "MB",
    },
    { system, metric: "objects noise band per 100k jobs (±2 SE)", value: dataJobs.noise, unit: "MB" },
    { system, metric: "heap growth per 100k jobs: compiled code", value: codeJobs.growth, unit: "MB" },
    { system, metric: "off-heap (external) growth per 100k jobs", value: externalJobs.growth, unit: "MB" },
    { system, metric: "RSS growth per hour", value: rssHour.growth, unit: "MB" },
    { system, metric: "RSS noise band per hour (±2 SE)", value: rssHour.noise, unit: "MB" },
    { system, metric: "heap growth per hour", value: heapHour.growth, unit: "MB" },
    { system, metric: "heap noise band per hour (±2 SE)", value: heapHour.noise, unit: "MB" },
    { system, metric: "RSS scatter around the line (SD)", value: rssJobs.sd, unit: "MB" },
    { system, metric: "heap scatter around the line (SD)", value: heapJobs.sd, unit: "MB" },
  ];
  const ratios = {
    "RSS growth / noise band (per 100k jobs; within noise when at most 1)": rssJobs.growth / rssJobs.noise,
    "heap growth / noise band (per 100k jobs; within noise when at most 1)": heapJobs.growth / heapJobs.noise,
    "heap objects growth / noise band (per 100k jobs; code excluded)": dataJobs.growth / dataJobs.noise,
  };
  const within = (g: { growth: number; noise: number }) => g.growth <= g.noise;
  const notes = [
    `${Math.round(durationMs / 1000)} s run, warm-up ${Math.round(warmupMs / 1000)} s, a sample every ${sampleMs / 1000} s, ${rate} jobs/s offered, ${first.gc ? "after global.gc()" : "without gc (not exposed)"}`,
    `goal, no growth beyond noise per 100,000 jobs: RSS ${within(rssJobs) ? "met" : "NOT met"}, heap ${within(heapJobs) ? "met" : "NOT met"}`,
  ];
  report("soak", rows, ratios, flags, notes);
} finally {
  if (app !== null && app.exitCode === null) app.kill("SIGKILL");
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
}
