/**
 * Converge benchmark, on PostgreSQL and SQLite:
 * - latency from an operator's committed UPDATE to the converger's change being committed,
 *   p50/p99, for a converger woken by the change (`wakeOn`) against the same converger driven only
 *   by a 5 s sweep (the seed's ticker; fewer samples, since each waits for a tick);
 * - throughput converging N out-of-line keys with concurrency 8 (one sweep; each change is
 *   recorded as an inconsistency, as in production).
 *
 * `npm run bench:converge` (add `--smoke` for a tiny run, `--json` for the JSON line).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { type Converger, type ConvergerDefinition, createConverger } from "../src/converge/index.ts";
import { Limiter } from "../src/lifecycle/limiter.ts";
import { createLogger } from "../src/log/logger.ts";
import { openStore, type Store } from "../src/store/index.ts";
import { median, parseFlags, quantile, type Row, report } from "./_support/report.ts";
import { cleanupAll, cleanupOnSignals, onCleanup } from "./jobs/cleanup.ts";
import { freshDatabase } from "./jobs/pg-admin.ts";

const flags = parseFlags();
process.env["TEND_LOG_LEVEL"] ??= "warn";
const size = flags.smoke
  ? { updates: 10, baseline: 2, keys: 200 }
  : { updates: 200, baseline: 6, keys: 10_000 };
const SWEEP = "5s";
const log = createLogger({ level: "silent" });
const started = performance.now();
const progress = (line: string) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}\n`);
cleanupOnSignals();

interface Db {
  url: string;
  exec(text: string, params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

async function openDb(driver: "sqlite" | "postgres"): Promise<Db> {
  if (driver === "sqlite") {
    const dir = await mkdtemp(join(tmpdir(), "tend-bench-converge-"));
    onCleanup(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
    const path = join(dir, "bench.db");
    const db = new DatabaseSync(path, { timeout: 10_000 });
    db.exec("PRAGMA journal_mode = WAL");
    return {
      url: `sqlite:${path}`,
      exec: async (text, params = []) => {
        db.prepare(text.replace(/\$(\d+)/g, "?$1")).run(...(params as never[]));
      },
      close: async () => db.close(),
    };
  }
  const fresh = await freshDatabase();
  const client = new pg.Client({ connectionString: fresh.url });
  await client.connect();
  return {
    url: fresh.url,
    exec: async (text, params = []) => {
      await client.query(text, params);
    },
    close: () => client.end(),
  };
}

/** Converges `actual` to `desired`, noting when its change was committed. */
function definition(
  name: string,
  committed: Map<string, number>,
  extra: Partial<ConvergerDefinition>,
  table = "bench_item",
): ConvergerDefinition {
  return {
    name,
    find: async (ctx) =>
      (await ctx.sql(`SELECT id FROM ${table} WHERE actual <> desired`)).map((r) => String(r["id"])),
    converge: async (key, ctx) => {
      const rows = await ctx.sql(
        `UPDATE ${table} SET actual = desired WHERE id = $1 AND actual <> desired RETURNING id, actual`,
        [key],
      );
      if (rows.length === 0) return undefined;
      committed.set(`${key}:${rows[0]?.["actual"]}`, performance.now());
      return { changed: { id: Number(key), actual: Number(rows[0]?.["actual"]) } };
    },
    ...extra,
  };
}

async function latency(
  db: Db,
  c: Converger,
  committed: Map<string, number>,
  samples: number,
  randomPhaseMs: number,
): Promise<number[]> {
  const controller = new AbortController();
  const running = c.run(controller.signal);
  const out: number[] = [];
  try {
    while (!c.isLeader()) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < samples; i++) {
      // Against a periodic sweep, an update arrives at a random point of the period.
      if (randomPhaseMs > 0) await new Promise((r) => setTimeout(r, Math.random() * randomPhaseMs));
      const key = String((i % 50) + 1);
      const value = 1_000_000 + i + Math.floor(Math.random() * 1e6) * 1000;
      // Timed from just before the operator's UPDATE is sent (its own commit included: a
      // conservative bound; timing after it returns can miss a converger faster than the reply).
      const at = performance.now();
      await db.exec("UPDATE bench_item SET desired = $1 WHERE id = $2", [value, Number(key)]);
      const id = `${key}:${value}`;
      const deadline = at + 30_000;
      while (!committed.has(id)) {
        if (performance.now() > deadline) throw new Error(`update ${id} not converged within 30 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
      out.push((committed.get(id) ?? at) - at);
    }
  } finally {
    controller.abort();
    await running;
  }
  return out;
}

/** Converges `size.keys` out-of-line rows of `table` in one sweep at concurrency 8; keys/s. */
async function throughput(
  db: Db,
  store: Store,
  driver: "sqlite" | "postgres",
  table: string,
): Promise<number> {
  await db.exec(`DELETE FROM ${table}`);
  if (driver === "postgres") {
    await db.exec(`INSERT INTO ${table} SELECT g, 1, 0 FROM generate_series(1, $1::int) g`, [size.keys]);
  } else {
    await db.exec(
      `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $1) INSERT INTO ${table} SELECT n, 1, 0 FROM g`,
      [size.keys],
    );
  }
  const bulk = createConverger(
    definition(`bench-throughput-${table}`, new Map(), { concurrency: 8, timeout: "10m" }, table),
    { store, log, limiter: new Limiter(8) },
  );
  const t0 = performance.now();
  const sweep = await bulk.sweepOnce();
  const seconds = (performance.now() - t0) / 1000;
  if (sweep.changed.length !== size.keys)
    throw new Error(`converged ${sweep.changed.length} of ${size.keys} keys`);
  return size.keys / seconds;
}

async function runDriver(
  driver: "sqlite" | "postgres",
  rows: Row[],
  ratios: Record<string, number>,
): Promise<void> {
  const db = await openDb(driver);
  const store = await openStore(db.url, { poolSize: 10 });
  try {
    await db.exec(
      "CREATE TABLE bench_item (id integer PRIMARY KEY, desired integer NOT NULL, actual integer NOT NULL)",
    );
    for (let i = 1; i <= 50; i++) await db.exec("INSERT INTO bench_item VALUES ($1, 0, 0)", [i]);
    const system = `tend-${driver}`;

    progress(`${driver}: latency with wakeOn (${size.updates} updates)`);
    const woken = new Map<string, number>();
    const wake = createConverger(
      definition("bench-wake", woken, {
        every: "1h",
        wakeOn: [{ table: "bench_item", key: "id" }],
      }),
      { store, log },
    );
    const wakeMs = await latency(db, wake, woken, size.updates, 100);

    progress(`${driver}: latency with a ${SWEEP} sweep only (${size.baseline} updates)`);
    const swept = new Map<string, number>();
    const ticker = createConverger(definition("bench-ticker", swept, { every: SWEEP }), { store, log });
    const sweepMs = await latency(db, ticker, swept, size.baseline, 5000);

    rows.push(
      { system, metric: "update->converged p50, wakeOn", value: median(wakeMs), unit: "ms" },
      { system, metric: "update->converged p99, wakeOn", value: quantile(wakeMs, 0.99), unit: "ms" },
      { system, metric: `update->converged p50, ${SWEEP} sweep`, value: median(sweepMs), unit: "ms" },
      { system, metric: `update->converged p99, ${SWEEP} sweep`, value: quantile(sweepMs, 0.99), unit: "ms" },
    );
    ratios[`${driver}: sweep p50 / wakeOn p50`] = median(sweepMs) / median(wakeMs);

    await db.exec(
      "CREATE TABLE bench_bulk (id integer PRIMARY KEY, desired integer NOT NULL, actual integer NOT NULL)",
    );
    for (const [table, label] of [
      ["bench_bulk", "plain table"],
      ["bench_item", "wakeOn table"],
    ] as const) {
      progress(`${driver}: throughput over ${size.keys} keys of a ${label}, concurrency 8`);
      rows.push({
        system,
        metric: `keys converged/s, ${label} (${size.keys} keys, concurrency 8)`,
        value: await throughput(db, store, driver, table),
        unit: "keys/s",
      });
    }
  } finally {
    await store.close();
    await db.close();
  }
}

const rows: Row[] = [];
const ratios: Record<string, number> = {};
try {
  await runDriver("postgres", rows, ratios);
  await runDriver("sqlite", rows, ratios);
} finally {
  await cleanupAll();
}
report("converge", rows, ratios, flags, [
  `latency: from just before the operator's UPDATE is sent (its commit included) to the converger's commit; ${size.updates} sequential updates per driver for wakeOn; only ${size.baseline} for the ${SWEEP}-sweep baseline (each arrives at a random point of the period and waits for the next tick); each update is sent after a random pause (wakeOn: 0-100 ms, sweep: 0-5 s) so that arrivals are not in step with the SQLite change check or the sweep`,
  "targets: wakeOn p50 under 100 ms on PostgreSQL and under 250 ms on SQLite (SQLite checks PRAGMA data_version every 50 ms, the default pollInterval)",
  "throughput: one sweep (find + converge of every key): one commit per key for the change, plus one per batch of inconsistencies; bound by the disk's commit rate on this machine",
  "on PostgreSQL a wakeOn table's trigger makes every writing transaction NOTIFY, and NOTIFY serialises commits (a global lock at commit): compare the plain and wakeOn rows",
]);
