import pg from "pg";
import { Logger, makeWorkerUtils, type Runner, run, runMigrations, type WorkerUtils } from "graphile-worker";
import { onCleanup } from "./cleanup.ts";
import { freshDatabase, queryOnce } from "./pg-admin.ts";
import {
  type BenchSettings,
  chunks,
  HandlerCounter,
  type HarnessFactory,
  latencyLoop,
  type SystemHarness,
  untilRecorded,
} from "./system.ts";

const silent = new Logger(() => () => {});

/**
 * graphile-worker as its repository's perfTest/graphile.config.js runs it for throughput: pool of
 * concurrency + 1 (a pool the bench owns, passed as `pgPool`), a local queue of 500 with a 10 ms
 * refetch delay, completions and failures batched (delay 0). Concurrency is the 50 (its
 * perf test uses 24 per process).
 * Latency runs as its perfTest/latencyTest.js does: concurrency 1, no local queue, no batching
 * (with concurrency 50 its p50 latency is about 3x worse on this machine).
 */
export function graphileHarness(settings: BenchSettings): HarnessFactory {
  return async (): Promise<SystemHarness> => {
    const db = await freshDatabase();
    // The bench owns graphile-worker's pool (the size its perf test gives: concurrency + 1), so
    // that closing ends every connection before the database is dropped; graphile-worker's own
    // pool is ended without waiting, and a connection still open at the drop errors unhandled.
    const pool = new pg.Pool({ connectionString: db.url, max: settings.concurrency + 1 });
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    const endPool = onCleanup("end graphile-worker pool", () => pool.end());
    const base = { pgPool: pool, logger: silent, noHandleSignals: true, crontab: "" };
    await runMigrations(base);
    const utils: WorkerUtils = await makeWorkerUtils({ pgPool: pool, logger: silent });
    const releaseUtils = onCleanup("release graphile-worker utils", () => utils.release());
    const counter = new HandlerCounter();
    const starts = new Map<number, number>();
    const taskList = {
      noop: async (payload: unknown) => {
        const p = payload as { i?: number; t?: boolean };
        if (p.t === true && typeof p.i === "number") starts.set(p.i, performance.now());
        counter.hit();
      },
    };
    let runner: Runner | null = null;
    let stopRunner: (() => Promise<void>) | null = null;
    const start = async (throughput: boolean): Promise<void> => {
      runner = await run({
        ...base,
        taskList,
        ...(throughput
          ? {
              concurrency: settings.concurrency,
              preset: {
                worker: {
                  localQueue: { size: 500, refetchDelay: { durationMs: 10 } },
                  completeJobBatchDelay: 0,
                  failJobBatchDelay: 0,
                },
              },
            }
          : { concurrency: 1 }),
      });
      const r = runner;
      stopRunner = onCleanup("stop graphile-worker runner", () => r.stop());
    };
    const remaining = async (): Promise<number> =>
      (
        await queryOnce<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM graphile_worker._private_jobs")
      )[0]!.n;
    return {
      async load(n, chunk) {
        const t0 = performance.now();
        for (const part of chunks(n, chunk))
          await utils.addJobs(part.map((i) => ({ identifier: "noop", payload: { i } })));
        return performance.now() - t0;
      },
      async analyze() {
        await queryOnce(db.url, "ANALYZE graphile_worker._private_jobs");
      },
      async process(n) {
        const t0 = performance.now();
        await start(true);
        await counter.reached(n, settings.timeoutMs, "graphile-worker");
        // Completed jobs are deleted from the table.
        await untilRecorded(n, async () => n - (await remaining()), settings.timeoutMs, "graphile-worker");
        return performance.now() - t0;
      },
      async latency(samples, warmup) {
        await start(false);
        return latencyLoop(
          samples,
          warmup,
          (i) => utils.addJob("noop", { i, t: true }),
          starts,
          settings.timeoutMs,
        );
      },
      async close() {
        await stopRunner?.();
        await releaseUtils();
        await endPool();
        await db.drop();
      },
    };
  };
}
