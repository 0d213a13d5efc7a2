/**
 * plainjob on better-sqlite3, as its README sets it up for Node (`better(new Database(file))`,
 * `defineQueue`, `defineWorker`, `worker.start()`), everything else its defaults. Its queue sets
 * `journal_mode = WAL` and `synchronous = 1` (NORMAL) itself. A worker runs one job at a time; the
 * README's way to more throughput is more worker processes. Jobs are added with `addMany` (bulk,
 * one transaction) and `add`.
 *
 * Options: none. The URL is `sqlite:<path>`.
 */
import Database from "better-sqlite3";
import { better, defineQueue, defineWorker, type Worker } from "plainjob";
import { asPayload, BENCH_KIND, type OpenSystem } from "./system.ts";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

export const open: OpenSystem = async (url) => {
  const queue = defineQueue({ connection: better(new Database(url.slice("sqlite:".length))), logger: quiet });
  let worker: Worker | null = null;
  let running: Promise<void> | null = null;
  return {
    async enqueueMany(indexes) {
      queue.addMany(
        BENCH_KIND,
        indexes.map((i) => ({ i })),
      );
    },
    async enqueueOne(payload) {
      queue.add(BENCH_KIND, { ...payload });
    },
    async startWorker(onJob) {
      worker = defineWorker(
        BENCH_KIND,
        async (job) => {
          onJob(asPayload(job.data));
        },
        { queue, logger: quiet },
      );
      running = worker.start();
    },
    async close() {
      await worker?.stop();
      await running;
      queue.close();
    },
  };
};
