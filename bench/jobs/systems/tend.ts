/**
 * tend (PostgreSQL or SQLite, by the URL) through its public API: `openStore` and `Jobs`.
 *
 * Options: `concurrency` (required), `prefetch` (left to tend's default when absent: the bench's
 * "defaults" configuration passes only `concurrency`) and `observe` (`on` or `sdk`: see observe.ts). The worker logs nothing unless env
 * BENCH_TEND_LOG_LEVEL names a level (diagnosis).
 */
import { createLogger, Jobs, openStore, type Store, type Task } from "../../../src/index.ts";
import { observeJobs } from "./observe.ts";
import { asPayload, BENCH_KIND, type BenchSystem, type OpenSystem, numberOption } from "./system.ts";

export const open: OpenSystem = async (url, options) => {
  const store: Store = await openStore(url);
  const prefetch = options["prefetch"];
  const log = createLogger({ level: process.env["BENCH_TEND_LOG_LEVEL"] ?? "silent", pretty: false });
  const jobs = new Jobs(() => Promise.resolve(store), {
    log,
    concurrency: numberOption(options, "concurrency"),
    ...(typeof prefetch === "number" ? { prefetch } : {}),
  });
  const observe = options["observe"];
  const unobserve = observe === "on" || observe === "sdk" ? observeJobs(jobs, observe, log) : undefined;
  const controller = new AbortController();
  let runs: Promise<void>[] = [];
  const system: BenchSystem = {
    async enqueueMany(indexes) {
      await jobs.enqueueMany(indexes.map((i) => ({ kind: BENCH_KIND, payload: { i } })));
    },
    async enqueueOne(payload) {
      await jobs.enqueue(BENCH_KIND, { ...payload });
    },
    async startWorker(onJob) {
      jobs.define(BENCH_KIND, ({ payload }) => {
        onJob(asPayload(payload));
      });
      const tasks: Task[] = await jobs.tasks();
      runs = tasks.map((t) => t.run(controller.signal));
    },
    /** Unfinished jobs as `jobs.stats()` reports them (what an operator's dashboard reads). */
    async unfinished() {
      const stats = await jobs.stats();
      return stats.reduce((sum, q) => sum + q.available + q.running + q.scheduled + q.retryable, 0);
    },
    counters() {
      return { ...(jobs.counters() ?? {}) };
    },
    async close() {
      controller.abort();
      await Promise.allSettled(runs);
      await unobserve?.();
      await store.close();
    },
  };
  return system;
};
