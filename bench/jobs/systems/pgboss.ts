/**
 * pg-boss 12 set up for throughput as its docs describe (docs/api/workers.md, "Low-latency
 * dispatch with LISTEN/NOTIFY" and the `work()` options): the instance started with
 * `useListenNotify: true`, the queue created with `notify: true`, and one `work()` worker fetching
 * `batchSize` jobs a time with `burstWhenBatchFull: true` ("while each fetch returns a full batch
 * ... the worker keeps fetching continuously with no delay"). The handler runs the batch's jobs
 * concurrently, so `batchSize` is the concurrency. Other settings are pg-boss's defaults. Jobs are
 * added with `insert` (bulk) and `send`.
 *
 * Options: `batchSize`.
 */
import { type Job, PgBoss } from "pg-boss";
import { asPayload, BENCH_KIND, type OpenSystem, numberOption } from "./system.ts";

export const open: OpenSystem = async (url, options) => {
  const batchSize = numberOption(options, "batchSize");
  const boss = new PgBoss({ connectionString: url, useListenNotify: true });
  const errors: Error[] = [];
  boss.on("error", (err: Error) => errors.push(err));
  await boss.start();
  // Idempotent: the producer creates the queue, the workers find it.
  if ((await boss.getQueue(BENCH_KIND)) === null) await boss.createQueue(BENCH_KIND, { notify: true });
  const check = (): void => {
    if (errors.length > 0) throw new Error(`pg-boss reported an error: ${errors[0]!.message}`);
  };
  return {
    async enqueueMany(indexes) {
      await boss.insert(
        BENCH_KIND,
        indexes.map((i) => ({ data: { i } })),
      );
      check();
    },
    async enqueueOne(payload) {
      await boss.send(BENCH_KIND, { ...payload });
    },
    async startWorker(onJob) {
      await boss.work(BENCH_KIND, { batchSize, burstWhenBatchFull: true }, async (jobs: Job<unknown>[]) => {
        await Promise.all(
          jobs.map(async (job) => {
            onJob(asPayload(job.data));
          }),
        );
      });
    },
    async close() {
      await boss.stop({ graceful: true, timeout: 5_000 });
      check();
    },
  };
};
