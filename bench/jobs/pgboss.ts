import PgBoss from "pg-boss";
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

const QUEUE = "bench";
/** Jobs fetched per poll: as many as graphile-worker's perf-test local queue holds. */
export const PGBOSS_BATCH = 500;
/** pg-boss 10 refuses polling intervals under 0.5 s; its smallest is used. */
const POLL_SECONDS = 0.5;

/** Runs `items` through `fn` with at most `limit` at once. */
async function withLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * pg-boss 10 with its batch fetching: one work() worker fetching up to 500 jobs per poll at the
 * shortest polling interval (0.5 s; v10 has no LISTEN wake-ups), the handler running the batch's
 * jobs at most 50 at once (the concurrency). Other settings are pg-boss's defaults.
 */
export function pgbossHarness(settings: BenchSettings, batchSize = PGBOSS_BATCH): HarnessFactory {
  return async (): Promise<SystemHarness> => {
    const db = await freshDatabase();
    const boss = new PgBoss({ connectionString: db.url });
    const errors: Error[] = [];
    boss.on("error", (err: Error) => errors.push(err));
    await boss.start();
    const stopBoss = onCleanup("stop pg-boss", () => boss.stop({ graceful: false, wait: true }));
    await boss.createQueue(QUEUE);
    const counter = new HandlerCounter();
    const starts = new Map<number, number>();
    const handle = async (job: PgBoss.Job<{ i?: number; t?: boolean }>): Promise<void> => {
      const p = job.data;
      if (p.t === true && typeof p.i === "number") starts.set(p.i, performance.now());
      counter.hit();
    };
    const start = async (): Promise<void> => {
      await boss.work<{ i?: number; t?: boolean }>(
        QUEUE,
        { batchSize, pollingIntervalSeconds: POLL_SECONDS },
        (jobs) => withLimit(jobs, settings.concurrency, handle),
      );
    };
    const completed = async (): Promise<number> =>
      (
        await queryOnce<{ n: number }>(
          db.url,
          `SELECT count(*)::int AS n FROM pgboss.job WHERE name = '${QUEUE}' AND state = 'completed'`,
        )
      )[0]!.n;
    const check = (): void => {
      if (errors.length > 0) throw new Error(`pg-boss reported an error: ${errors[0]!.message}`);
    };
    return {
      async load(n, chunk) {
        const t0 = performance.now();
        for (const part of chunks(n, chunk))
          await boss.insert(part.map((i) => ({ name: QUEUE, data: { i } })));
        return performance.now() - t0;
      },
      async analyze() {
        await queryOnce(db.url, "ANALYZE pgboss.job");
      },
      async process(n) {
        const t0 = performance.now();
        await start();
        await counter.reached(n, settings.timeoutMs, "pg-boss");
        await untilRecorded(n, completed, settings.timeoutMs, "pg-boss");
        check();
        return performance.now() - t0;
      },
      async latency(samples, warmup) {
        await start();
        const out = await latencyLoop(
          samples,
          warmup,
          (i) => boss.send(QUEUE, { i, t: true }),
          starts,
          settings.timeoutMs,
        );
        check();
        return out;
      },
      async close() {
        await stopBoss();
        await db.drop();
      },
    };
  };
}
