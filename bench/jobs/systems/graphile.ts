/**
 * graphile-worker as its performance page configures it for throughput
 * (https://worker.graphile.org/docs/performance, "Quick stats": `concurrentJobs` 24 with
 * `maxPoolSize` 25, `localQueue: { size: 500 }`, `completeJobBatchDelay: 0`,
 * `failJobBatchDelay: 0`), at the bench's concurrency: `maxPoolSize` is concurrency + 1, as there.
 * Everything else (poll interval 2 s behind LISTEN/NOTIFY, prepared statements on, no refetch
 * delay) is graphile-worker's default. Jobs are added with `addJobs` (bulk) and `addJob`.
 *
 * Options: `concurrency`, `localQueueSize`.
 */
import { Logger, makeWorkerUtils, type Runner, run, type WorkerUtils } from "graphile-worker";
import { asPayload, BENCH_KIND, type OpenSystem, numberOption } from "./system.ts";

const silent = new Logger(() => () => {});

export const open: OpenSystem = async (url, options) => {
  const concurrency = numberOption(options, "concurrency");
  const localQueueSize = numberOption(options, "localQueueSize");
  const utils: WorkerUtils = await makeWorkerUtils({ connectionString: url, logger: silent });
  await utils.migrate();
  let runner: Runner | null = null;
  return {
    async enqueueMany(indexes) {
      await utils.addJobs(indexes.map((i) => ({ identifier: BENCH_KIND, payload: { i } })));
    },
    async enqueueOne(payload) {
      await utils.addJob(BENCH_KIND, { ...payload });
    },
    async startWorker(onJob) {
      runner = await run({
        logger: silent,
        noHandleSignals: true,
        crontab: "",
        taskList: {
          [BENCH_KIND]: async (payload: unknown) => {
            onJob(asPayload(payload));
          },
        },
        preset: {
          worker: {
            connectionString: url,
            concurrentJobs: concurrency,
            maxPoolSize: concurrency + 1,
            localQueue: { size: localQueueSize },
            completeJobBatchDelay: 0,
            failJobBatchDelay: 0,
          },
        },
      });
    },
    async close() {
      await runner?.stop();
      await utils.release();
    },
  };
};
