/**
 * liteque on better-sqlite3, as its README sets it up (`buildDBClient(file, { runMigrations:
 * true })`, a `SqliteQueue`, a `Runner` with `concurrency`, `pollIntervalMs`, `timeoutSecs`). Its
 * client sets `journal_mode = WAL` and `synchronous = NORMAL` itself. liteque has no bulk enqueue:
 * `enqueueMany` makes one `enqueue()` call (one transaction) per job.
 *
 * liteque 0.8.0 claims a job in a better-sqlite3 transaction whose function is async. better-sqlite3
 * up to 11.9 committed such a transaction when the function returned (its promise pending), so
 * only the claim's SELECT ran inside it and the UPDATE that follows is guarded by liteque's
 * allocation-id check. better-sqlite3 11.10 and later refuse it ("Transaction function cannot
 * return a promise"), and the versions before 13 abort the process on Node 24.20+ (their
 * statements' destructor fails a Node assertion). So the bench runs liteque on better-sqlite3 13
 * with `tolerateAsyncTransactions`, which restores the old behaviour for liteque's connection.
 *
 * Options: `concurrency`, `pollIntervalMs`. The URL is `sqlite:<path>`.
 */
import type Database from "better-sqlite3";
import { buildDBClient, Runner, SqliteQueue } from "liteque";
import { asPayload, BENCH_KIND, type BenchPayload, type OpenSystem, numberOption } from "./system.ts";

/**
 * Makes `client.transaction(fn)` accept an `fn` that returns a promise, as better-sqlite3 did up to
 * 11.9: the transaction commits when `fn` returns, and its result (the promise) is passed through.
 */
function tolerateAsyncTransactions(client: Database.Database): void {
  const original = client.transaction.bind(client);
  type Run = (...args: unknown[]) => unknown;
  client.transaction = ((fn: Run) => {
    // better-sqlite3 rejects a thenable result, so the result travels boxed through it.
    const boxed = original((...args: unknown[]) => ({ value: fn(...args) }));
    const unbox =
      (t: (...args: unknown[]) => { value: unknown }): Run =>
      (...args) =>
        t(...args).value;
    return Object.assign(unbox(boxed), {
      deferred: unbox(boxed.deferred),
      immediate: unbox(boxed.immediate),
      exclusive: unbox(boxed.exclusive),
    });
  }) as unknown as Database.Database["transaction"];
}

export const open: OpenSystem = async (url, options) => {
  const db = buildDBClient(url.slice("sqlite:".length), { runMigrations: true });
  // drizzle keeps the better-sqlite3 connection as its session's client.
  tolerateAsyncTransactions((db as unknown as { session: { client: Database.Database } }).session.client);
  const queue = new SqliteQueue<BenchPayload>(BENCH_KIND, db, {
    defaultJobArgs: { numRetries: 0 },
    keepFailedJobs: false,
  });
  let runner: Runner<BenchPayload> | null = null;
  let running: Promise<void> | null = null;
  return {
    async enqueueMany(indexes) {
      for (const i of indexes) await queue.enqueue({ i });
    },
    async enqueueOne(payload) {
      await queue.enqueue({ ...payload });
    },
    async startWorker(onJob) {
      runner = new Runner<BenchPayload>(
        queue,
        {
          run: async (job) => {
            onJob(asPayload(job.data));
          },
        },
        {
          concurrency: numberOption(options, "concurrency"),
          pollIntervalMs: numberOption(options, "pollIntervalMs"),
          timeoutSecs: 60,
        },
      );
      running = runner.run();
    },
    async close() {
      runner?.stop();
      await running;
    },
  };
};
