/**
 * tend (PostgreSQL or SQLite, by the URL) through its public API: `openStore` and `Jobs`.
 *
 * Options: `concurrency` (required), `prefetch` (left to tend's default when absent: the bench's
 * "defaults" configuration passes only `concurrency`) and `observe` (`on` or `sdk`: see observe.ts). The worker logs nothing unless env
 * BENCH_TEND_LOG_LEVEL names a level (diagnosis).
 *
 * Options of the keyed phase (bench/jobs/keyed.ts), all optional: `keys` and `keyLimit` (job i gets
 * concurrency key `k<i mod keys>` with that limit), `bigJobs` and `bigLimit` (jobs with i below
 * `bigJobs` all get the key `big` with that limit instead), `markFrom` (jobs with i at or above it
 * record their handler's start, like latency probes), `workMs` (each handler waits that long),
 * `rateLimit` and `ratePerMs` (every job limited to that many starts per window, key `rated`),
 * `pollMs` (the worker's `pollInterval`).
 */
import {
  createLogger,
  type EnqueueItem,
  Jobs,
  openStore,
  type Store,
  type Task,
} from "../../../src/index.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { observeJobs } from "./observe.ts";
import {
  asPayload,
  BENCH_KIND,
  type BenchSystem,
  type OpenSystem,
  numberOption,
  type SystemOptions,
} from "./system.ts";

export const open: OpenSystem = async (url, options) => {
  const store: Store = await openStore(url);
  const prefetch = options["prefetch"];
  const log = createLogger({ level: process.env["BENCH_TEND_LOG_LEVEL"] ?? "silent", pretty: false });
  const jobs = new Jobs(() => Promise.resolve(store), {
    log,
    concurrency: numberOption(options, "concurrency"),
    ...(typeof prefetch === "number" ? { prefetch } : {}),
    ...(typeof options["pollMs"] === "number" ? { pollInterval: options["pollMs"] } : {}),
  });
  const keyed = keyedOptions(options);
  const markFrom = typeof options["markFrom"] === "number" ? options["markFrom"] : Infinity;
  const workMs = typeof options["workMs"] === "number" ? options["workMs"] : 0;
  const observe = options["observe"];
  const unobserve = observe === "on" || observe === "sdk" ? observeJobs(jobs, observe, log) : undefined;
  const controller = new AbortController();
  let runs: Promise<void>[] = [];
  const system: BenchSystem = {
    async enqueueMany(indexes) {
      await jobs.enqueueMany(
        indexes.map((i) => ({
          kind: BENCH_KIND,
          payload: i >= markFrom ? { i, t: true } : { i },
          ...(keyed === null ? {} : keyed(i)),
        })),
      );
    },
    async enqueueOne(payload) {
      await jobs.enqueue(BENCH_KIND, { ...payload });
    },
    async startWorker(onJob) {
      jobs.define(
        BENCH_KIND,
        workMs > 0
          ? async ({ payload }) => {
              onJob(asPayload(payload));
              await sleep(workMs);
            }
          : ({ payload }) => {
              onJob(asPayload(payload));
            },
      );
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

/** The enqueue options of job i under the keyed phase's options; null when none are set. */
function keyedOptions(options: SystemOptions): ((i: number) => Omit<EnqueueItem, "kind" | "payload">) | null {
  const num = (name: string): number | undefined =>
    typeof options[name] === "number" ? options[name] : undefined;
  const keys = num("keys");
  const rateLimit = num("rateLimit");
  if (keys === undefined && rateLimit === undefined) return null;
  const keyLimit = num("keyLimit") ?? 1;
  const bigJobs = num("bigJobs") ?? 0;
  const bigLimit = num("bigLimit") ?? keyLimit;
  const per = num("ratePerMs") ?? 1_000;
  return (i) => {
    if (rateLimit !== undefined) return { concurrencyKey: "rated", rateLimit: { limit: rateLimit, per } };
    if (i < bigJobs) return { concurrencyKey: "big", concurrencyLimit: bigLimit };
    return { concurrencyKey: `k${i % keys!}`, concurrencyLimit: keyLimit };
  };
}
