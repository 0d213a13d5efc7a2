/**
 * Dashboard benchmark, on PostgreSQL and SQLite: with 1,000,000 jobs in the table (mixed states,
 * 20 queues, 50 kinds; `--smoke`: 20,000), the answer time over real HTTP of the jobs list, a
 * filtered list (a common and a rare filter), a job's detail, the overview (API and page), a
 * bulk action's count, the overview's last hour, a creation time range and text searches; and, when Debian's Chromium is present, the overview page's load time in
 * the browser. p50 and p95 of repeated requests, after one warm-up each.
 *
 * `npm run bench:dashboard` (add `--smoke` for a tiny run, `--json` for the JSON line).
 */
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { createApp } from "../src/app.ts";
import { Manager } from "../src/lifecycle/manager.ts";
import { createLogger } from "../src/log/logger.ts";
import { median, parseFlags, quantile, type Row, report } from "./_support/report.ts";
import { cleanupAll, cleanupOnSignals } from "./jobs/cleanup.ts";
import { benchDatabase } from "./jobs/databases.ts";
import { queryOnce } from "./jobs/pg-admin.ts";

const flags = parseFlags();
process.env["TEND_LOG_LEVEL"] ??= "warn";
const JOBS = flags.smoke ? 20_000 : 1_000_000;
const SAMPLES = flags.smoke ? 5 : 40;
const CHROMIUM = process.env["TEND_CHROMIUM"] ?? "/usr/bin/chromium";
const log = createLogger({ level: "silent" });
const started = performance.now();
const progress = (line: string) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}\n`);
cleanupOnSignals();

/**
 * The state of job i: 80% completed, 5% discarded, 3% cancelled, 5% available, 4% scheduled,
 * 2.5% retryable, 0.5% running: a table that has run for a while.
 */
const STATE_CASE = (i: string) => `CASE
  WHEN ${i} % 1000 < 800 THEN 'completed'
  WHEN ${i} % 1000 < 850 THEN 'discarded'
  WHEN ${i} % 1000 < 880 THEN 'cancelled'
  WHEN ${i} % 1000 < 930 THEN 'available'
  WHEN ${i} % 1000 < 970 THEN 'scheduled'
  WHEN ${i} % 1000 < 995 THEN 'retryable'
  ELSE 'running' END`;

async function fillSqlite(path: string): Promise<void> {
  const db = new DatabaseSync(path, { timeout: 30_000 });
  try {
    const now = Date.now();
    db.exec("BEGIN");
    db.prepare(
      `INSERT INTO tend_jobs (kind, queue, payload, priority, state, run_at, attempt, max_attempts, errors,
         created_at, started_at, finished_at, worker_id, lease_token, lease_expires_at)
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1),
       s(i, state) AS (SELECT i, ${STATE_CASE("i")} FROM n)
       SELECT 'kind.' || (i % 50), 'q' || (i % 20), '{"n":' || i || ',"to":"user' || i || '@example.com"}', 0, state,
         CASE WHEN state IN ('scheduled', 'retryable') THEN ?2 + 3600000 ELSE ?2 - (?1 - i) * 600 END,
         CASE WHEN state IN ('completed', 'discarded', 'cancelled', 'running', 'retryable') THEN 1 ELSE 0 END, 3,
         CASE WHEN state IN ('discarded', 'retryable') THEN '[{"attempt":1,"at":"2026-01-01T00:00:00.000Z","message":"boom"}]' ELSE '[]' END,
         ?2 - (?1 - i) * 600,
         CASE WHEN state IN ('available', 'scheduled') THEN NULL ELSE ?2 - (?1 - i) * 600 + 10 END,
         CASE WHEN state IN ('completed', 'discarded', 'cancelled') THEN ?2 - (?1 - i) * 600 + 20 END,
         CASE WHEN state = 'running' THEN 'bench-worker' END,
         CASE WHEN state = 'running' THEN 'lease-' || i END,
         CASE WHEN state = 'running' THEN ?2 + 3600000 END
       FROM s`,
    ).run(JOBS, now);
    db.exec("COMMIT");
    db.exec("ANALYZE");
  } finally {
    db.close();
  }
}

async function fillPostgres(url: string): Promise<void> {
  await queryOnce(
    url,
    `INSERT INTO tend.jobs (kind, queue, payload, priority, state, run_at, attempt, max_attempts, errors,
       created_at, started_at, finished_at, worker_id, lease_token, lease_expires_at)
     SELECT 'kind.' || (i % 50), 'q' || (i % 20), jsonb_build_object('n', i, 'to', 'user' || i || '@example.com'), 0, state,
       CASE WHEN state IN ('scheduled', 'retryable') THEN now() + interval '1 hour' ELSE now() - (${JOBS} - i) * interval '600 ms' END,
       CASE WHEN state IN ('completed', 'discarded', 'cancelled', 'running', 'retryable') THEN 1 ELSE 0 END, 3,
       CASE WHEN state IN ('discarded', 'retryable') THEN '[{"attempt":1,"at":"2026-01-01T00:00:00.000Z","message":"boom"}]'::jsonb ELSE '[]'::jsonb END,
       now() - (${JOBS} - i) * interval '600 ms',
       CASE WHEN state IN ('available', 'scheduled') THEN NULL ELSE now() - (${JOBS} - i) * interval '600 ms' END,
       CASE WHEN state IN ('completed', 'discarded', 'cancelled') THEN now() - (${JOBS} - i) * interval '600 ms' END,
       CASE WHEN state = 'running' THEN 'bench-worker' END,
       CASE WHEN state = 'running' THEN 'lease-' || i END,
       CASE WHEN state = 'running' THEN now() + interval '1 hour' END
     FROM (SELECT i, ${STATE_CASE("i")} AS state FROM generate_series(1, ${JOBS}) AS i) s`,
  );
  await queryOnce(url, "VACUUM ANALYZE tend.jobs");
}

/** p50 and p95 (ms) of `SAMPLES` GETs of `path()` after one warm-up. */
async function time(base: string, path: () => string): Promise<{ p50: number; p95: number }> {
  const once = async () => {
    const t0 = performance.now();
    const res = await fetch(`${base}${path()}`);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`GET ${path()}: HTTP ${res.status}`);
    return performance.now() - t0;
  };
  await once();
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) samples.push(await once());
  return { p50: median(samples), p95: quantile(samples, 0.95) };
}

async function pageLoad(base: string): Promise<{ p50: number; p95: number } | null> {
  if (!existsSync(CHROMIUM)) return null;
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/ui`);
    const samples: number[] = [];
    for (let i = 0; i < Math.min(SAMPLES, 20); i++) {
      const t0 = performance.now();
      await page.goto(`${base}/ui/jobs?state=discarded`, { waitUntil: "load" });
      samples.push(performance.now() - t0);
    }
    return { p50: median(samples), p95: quantile(samples, 0.95) };
  } finally {
    await browser.close();
  }
}

async function runDriver(driver: "sqlite" | "postgres", rows: Row[]): Promise<void> {
  const db = await benchDatabase(driver);
  const system = driver === "sqlite" ? "SQLite" : "PostgreSQL";
  // Opening the app migrates the empty database; then the rows go in with one statement.
  const manager = new Manager({ log, shutdownTimeout: "10s" });
  const app = createApp({ database: db.url, log, jobs: { queues: {} }, http: { port: 0, dashboard: true } });
  await app.start(manager);
  try {
    progress(`${system}: inserting ${JOBS.toLocaleString("en")} jobs`);
    // Job i is created at filledAt - (JOBS - i) * 600 ms: the table spans JOBS * 0.6 s up to now.
    const filledAt = Date.now();
    if (driver === "sqlite") await fillSqlite(db.name);
    else await fillPostgres(db.url);
    progress(`${system}: measuring`);
    const base = app.httpAddress!;
    let n = 0;
    const randomId = () => String(1 + ((n++ * 7919 * 104729) % JOBS));
    const iso = (ms: number) => new Date(ms).toISOString();
    const middle = filledAt - JOBS * 300;
    const cases: Array<[string, () => string]> = [
      ["jobs list (newest 50)", () => "/api/jobs?limit=50"],
      ["filtered list: discarded", () => "/api/jobs?state=discarded&limit=50"],
      [
        "filtered list: retryable in q7 of kind.27",
        () => "/api/jobs?state=retryable&queue=q7&kind=kind.27&limit=50",
      ],
      [
        "filtered list: discarded, page 50",
        () => `/api/jobs?state=discarded&limit=50&before=${Math.floor(JOBS * 0.95)}`,
      ],
      ["job detail", () => `/api/jobs/${randomId()}`],
      ["overview (API)", () => "/api/queues"],
      ["overview page /ui", () => "/ui"],
      ["jobs page /ui/jobs?state=discarded", () => "/ui/jobs?state=discarded"],
      ["job page", () => `/ui/jobs/${randomId()}`],
      ["bulk count: cancel q3", () => "/api/jobs/bulk/cancel?queue=q3"],
      ["overview: last hour per minute (/api/activity)", () => "/api/activity"],
      [
        "time range: an hour half-way down the table",
        () => `/api/jobs?from=${iso(middle)}&to=${iso(middle + 3_600_000)}`,
      ],
      ["text search: a rare payload text", () => `/api/jobs?q=user${Math.floor(JOBS / 3)}@example.com`],
      ["text search: a common error text", () => "/api/jobs?q=boom"],
      [
        "text search in a time range, one queue",
        () => `/api/jobs?queue=q4&q=example.com&from=${iso(middle)}&to=${iso(middle + 3_600_000)}`,
      ],
    ];
    for (const [name, path] of cases) {
      const { p50, p95 } = await time(base, path);
      rows.push({ system, metric: `${name} p50`, value: p50, unit: "ms" });
      rows.push({ system, metric: `${name} p95`, value: p95, unit: "ms" });
      progress(`${system}: ${name}: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);
    }
    // The overview's all-time counts of final states, read directly (the page caches them 10 s).
    const store = await app.store();
    const counts: number[] = [];
    for (let i = 0; i < (flags.smoke ? 3 : 20); i++) {
      const t0 = performance.now();
      await store.admin.stateCounts();
      counts.push(performance.now() - t0);
    }
    rows.push({
      system,
      metric: "all-time counts by queue and state (sampled) p50",
      value: median(counts),
      unit: "ms",
    });
    progress(`${system}: all-time counts p50 ${median(counts).toFixed(1)} ms`);
    const load = await pageLoad(base);
    if (load !== null) {
      rows.push({
        system,
        metric: "Chromium load of /ui/jobs?state=discarded p50",
        value: load.p50,
        unit: "ms",
      });
      progress(`${system}: Chromium page load p50 ${load.p50.toFixed(1)} ms`);
    }
  } finally {
    await manager.stop();
    await app.close();
    await db.drop();
  }
}

const rows: Row[] = [];
try {
  await runDriver("sqlite", rows);
  await runDriver("postgres", rows);
} finally {
  await cleanupAll();
}
const p50 = (system: string, metric: string) =>
  rows.find((r) => r.system === system && r.metric === `${metric} p50`)?.value ?? Number.NaN;
const worst = Math.max(
  ...["SQLite", "PostgreSQL"].flatMap((s) =>
    ["jobs list (newest 50)", "filtered list: discarded", "job detail", "overview (API)"].map((m) =>
      p50(s, m),
    ),
  ),
);
report("dashboard", rows, { worstPageP50Ms: worst }, flags, [
  `${JOBS.toLocaleString("en")} jobs per driver (80% completed, 5% discarded, 3% cancelled, 5% available, 4% scheduled, 2.5% retryable, 0.5% running; 20 queues, 50 kinds); ${SAMPLES} requests per figure over real HTTP after one warm-up.`,
  "The goal: list, filtered list, detail and overview each under 200 ms at p50.",
]);
