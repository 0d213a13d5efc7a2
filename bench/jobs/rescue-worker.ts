/**
 * A tend worker process for the rescue measurement. Env: TEND_DATABASE_URL, QUEUE, LEASE_MS.
 * Its handler prints "started <id>" and then waits until aborted (the bench SIGKILLs it).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Jobs } from "../../src/jobs/index.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openStore } from "../../src/store/index.ts";

const store = await openStore(process.env["TEND_DATABASE_URL"] ?? "");
const queue = process.env["QUEUE"] ?? "rescue";
const jobs = new Jobs(() => Promise.resolve(store), {
  log: createLogger({ level: "silent", pretty: false }),
  concurrency: 1,
  lease: Number(process.env["LEASE_MS"] ?? 2_000),
});
jobs.define(
  "bench.hang",
  async ({ id, signal }) => {
    process.stdout.write(`started ${id}\n`);
    await sleep(600_000, undefined, { signal });
  },
  { queue },
);
const controller = new AbortController();
process.once("SIGTERM", () => controller.abort());
const tasks = await jobs.tasks();
process.stdout.write("ready\n");
await Promise.allSettled(tasks.map((t) => t.run(controller.signal)));
await store.close();
