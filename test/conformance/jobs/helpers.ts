import { randomUUID } from "node:crypto";
import { Jobs, type JobsOptions } from "../../../src/jobs/index.ts";
import { createLogger } from "../../../src/log/logger.ts";
import type { Store } from "../../../src/store/index.ts";
import { waitFor } from "../../support/wait.ts";

export const silent = createLogger({ level: process.env["TEND_TEST_LOG_LEVEL"] ?? "silent", pretty: false });

/** A queue name no other test uses. */
export function uniqueQueue(prefix = "q"): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A Jobs instance on `store` with fast test timings. */
export function makeJobs(store: Store, options: Partial<JobsOptions> = {}): Jobs {
  return new Jobs(async () => store, { log: silent, pollInterval: 100, ...options });
}

/** Runs a Jobs instance's tasks until stop() is called; stop() resolves when they all returned. */
export async function startJobs(jobs: Jobs): Promise<{ stop(): Promise<void>; signal: AbortSignal }> {
  const controller = new AbortController();
  const tasks = await jobs.tasks();
  const runs = tasks.map((t) => t.run(controller.signal));
  return {
    signal: controller.signal,
    async stop() {
      controller.abort();
      await Promise.all(runs);
    },
  };
}

/** Waits until job `id` is in `state` and returns it. */
export async function waitForState(jobs: Jobs, id: string, state: string, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      const job = await jobs.get(id);
      return job !== null && job.state === state ? job : null;
    },
    { timeoutMs, message: `job ${id} to be ${state}` },
  );
}

/** A promise with its resolve function, for awaiting an event inside a handler. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
