import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Jobs } from "../../src/jobs/index.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { rawConnection } from "../../src/store/raw.ts";
import { onCleanup } from "./cleanup.ts";
import { freshDatabase } from "./pg-admin.ts";
import {
  type BenchSettings,
  chunks,
  HandlerCounter,
  type HarnessFactory,
  latencyLoop,
  type SystemHarness,
  untilRecorded,
} from "./system.ts";

export const silentLog = createLogger({ level: "silent", pretty: false });

/** A fresh tend database: a new PostgreSQL database, or an SQLite file in a new temp folder. */
export async function tendDatabase(
  driver: "postgres" | "sqlite",
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (driver === "postgres") return freshDatabase();
  const dir = await mkdtemp(join(tmpdir(), "tend-bench-"));
  const drop = onCleanup(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return { url: `sqlite:${join(dir, "tend.db")}`, drop };
}

/** The statement counting completed jobs, and ANALYZE, through the store's own connection. */
function tableOps(store: Store): { completed(): Promise<number>; analyze(): Promise<void> } {
  const raw = rawConnection(store);
  if (raw.driver === "postgres") {
    const table = `"${raw.schema}".jobs`;
    return {
      completed: async () =>
        (
          await raw.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${table} WHERE state = 'completed'`,
          )
        ).rows[0]!.n,
      analyze: async () => {
        await raw.pool.query(`ANALYZE ${table}`);
      },
    };
  }
  const table = `"${raw.prefix}jobs"`;
  const count = raw.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE state = 'completed'`);
  return {
    completed: async () => Number((count.get() as { n: number }).n),
    analyze: async () => {
      raw.db.exec(`ANALYZE ${table}`);
    },
  };
}

/**
 * tend on `driver`: `Jobs` with concurrency 50 (the setting) and tend's documented
 * throughput setting for many short jobs, `prefetch: 500` (the same depth as graphile-worker's local
 * queue in its perf test); otherwise defaults (pool of 10, LISTEN/NOTIFY or in-process wake-ups,
 * 1 s fallback poll).
 */
export function tendHarness(driver: "postgres" | "sqlite", settings: BenchSettings): HarnessFactory {
  return async (): Promise<SystemHarness> => {
    const db = await tendDatabase(driver);
    const store = await openStore(db.url);
    const closeStore = onCleanup("close tend store", () => store.close());
    const counter = new HandlerCounter();
    const starts = new Map<number, number>();
    const jobs = new Jobs(() => Promise.resolve(store), {
      log: silentLog,
      concurrency: settings.concurrency,
      prefetch: 500,
    });
    jobs.define("bench.noop", ({ payload }) => {
      const p = payload as { i?: number; t?: boolean };
      if (p.t === true && typeof p.i === "number") starts.set(p.i, performance.now());
      counter.hit();
    });
    const ops = tableOps(store);
    const controller = new AbortController();
    let runs: Promise<unknown>[] = [];
    const start = async (): Promise<void> => {
      const tasks = await jobs.tasks();
      runs = tasks.map((t) => t.run(controller.signal));
    };
    const what = `tend-${driver}`;
    return {
      async load(n, chunk) {
        const t0 = performance.now();
        for (const part of chunks(n, chunk))
          await jobs.enqueueMany(part.map((i) => ({ kind: "bench.noop", payload: { i } })));
        return performance.now() - t0;
      },
      analyze: () => ops.analyze(),
      async process(n) {
        const t0 = performance.now();
        await start();
        await counter.reached(n, settings.timeoutMs, what);
        await untilRecorded(n, ops.completed, settings.timeoutMs, what);
        return performance.now() - t0;
      },
      async latency(samples, warmup) {
        await start();
        return latencyLoop(
          samples,
          warmup,
          (i) => jobs.enqueue("bench.noop", { i, t: true }),
          starts,
          settings.timeoutMs,
        );
      },
      async close() {
        controller.abort();
        await Promise.allSettled(runs);
        await closeStore();
        await db.drop();
      },
    };
  };
}
