import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCron, ticksBetween } from "../../src/jobs/cron.ts";
import type { CronTickResult, JobStore, NewJob, Store } from "../../src/store/index.ts";
import { useFreshStore } from "../support/backends.ts";
import { deferred, makeJobs, startJobs, uniqueQueue } from "../conformance/jobs/helpers.ts";

/**
 * A cron catch-up that fails (the database unreachable at start) is tried again until it
 * succeeds, and enqueues the missed tick once. Real stores on both drivers; the failures are
 * injected in front of them: the store's first answer is an error, as a dropped connection gives.
 */

const HOURLY = "0 * * * *";

/** The next try comes 1 s after the first failure: this bounds the wait for it, generously. */
const RETRY_BOUND_MS = 15_000;

/** What the store in front of the real one does at a method's next calls. */
interface Faults {
  /** lastCronTick throws (before reaching the database) while this is above 0. */
  lastTickFailures: number;
  /** cronTick runs in the database, then throws (its answer lost) while this is above 0. */
  lostTickAnswers: number;
}

/** `store` with faults injected into the cron reads and writes, and a hook on each answer. */
function faulty(
  store: Store,
  faults: Faults,
  seen: { lastTick(value: Date | null): void; tick(result: CronTickResult): void },
): Store {
  const jobs = new Proxy(store.jobs, {
    get(target, prop) {
      if (prop === "lastCronTick") {
        return async (name: string) => {
          if (faults.lastTickFailures > 0) {
            faults.lastTickFailures--;
            throw new Error("Connection terminated unexpectedly");
          }
          const value = await target.lastCronTick(name);
          seen.lastTick(value);
          return value;
        };
      }
      if (prop === "cronTick") {
        return async (...args: Parameters<JobStore["cronTick"]>) => {
          const result = await target.cronTick(...args);
          if (faults.lostTickAnswers > 0) {
            faults.lostTickAnswers--;
            throw new Error("Connection terminated unexpectedly (after the commit)");
          }
          seen.tick(result);
          return result;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "jobs") return jobs;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A job as a cron tick of `kind` enqueues it. */
function tickJob(kind: string, queue: string, tick: Date): NewJob {
  return {
    kind,
    queue,
    payload: "{}",
    priority: 0,
    runAt: tick,
    maxAttempts: 3,
    uniqueKey: null,
    batchId: null,
    batchIndex: null,
  };
}

/** Rejects after `ms` unless `promise` settles first: a bound on an awaited event, not a sleep. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

for (const driver of ["sqlite", "postgres"] as const) {
  describe(`cron catch-up after a failure (${driver})`, () => {
    const fresh = useFreshStore(driver);

    /**
     * A schedule "hourly" whose last recorded tick is three hours back, scheduled by a Jobs on the
     * faulty store; returns what the catch-up should enqueue and the jobs of its kind.
     */
    async function setUp(faults: Faults) {
      const { store } = fresh();
      const kind = `cron.catchup.${driver}`;
      const queue = uniqueQueue("catchup");
      const pattern = parseCron(HOURLY);
      const [, , last] = pattern.previousRuns(3, new Date());
      assert.ok(last !== undefined);
      const recorded = await store.jobs.cronTick("hourly", last, tickJob(kind, queue, last), "allow");
      assert.equal(recorded.outcome, "enqueued");
      const caughtUp = deferred<Date>();
      const firstTick = deferred<CronTickResult>();
      const ticks: CronTickResult[] = [];
      const wrapped = faulty(store, faults, {
        lastTick: (value) => {
          if (value !== null && value.getTime() > last.getTime()) caughtUp.resolve(value);
        },
        tick: (result) => {
          ticks.push(result);
          firstTick.resolve(result);
        },
      });
      const jobs = makeJobs(wrapped);
      // No handler for the kind in this process: its jobs stay in the store, to be counted.
      jobs.cron(HOURLY, kind, {}, { name: "hourly", queue, overlap: "allow" });
      const jobsOfKind = async () =>
        (await store.jobs.list({ kind, limit: 100 })).map((j) => j.runAt.getTime());
      return { jobs, last, pattern, caughtUp, firstTick, ticks, jobsOfKind };
    }

    it("a catch-up whose read of the last tick failed is tried again and enqueues the missed tick once", async () => {
      const faults = { lastTickFailures: 1, lostTickAnswers: 0 };
      const { jobs, last, pattern, firstTick, jobsOfKind } = await setUp(faults);
      const started = await startJobs(jobs);
      let written: CronTickResult;
      try {
        // Only a later try of the catch-up writes a tick: the schedule's next tick is within the hour.
        written = await within(firstTick.promise, RETRY_BOUND_MS, "the catch-up's next try");
      } finally {
        await started.stop();
      }
      assert.equal(faults.lastTickFailures, 0, "the first read failed");
      assert.equal(written.outcome, "enqueued");
      const latest = ticksBetween(pattern, last, new Date()).at(-1)!;
      assert.deepEqual(
        (await jobsOfKind()).filter((t) => t > last.getTime()),
        [latest.getTime()],
        "exactly one job for the missed ticks: the latest one",
      );
    });

    it("a catch-up whose tick was recorded but its answer lost enqueues nothing more on its next try", async () => {
      const faults = { lastTickFailures: 0, lostTickAnswers: 1 };
      const { jobs, last, pattern, caughtUp, ticks, jobsOfKind } = await setUp(faults);
      const started = await startJobs(jobs);
      let seen: Date;
      try {
        // The next try reads the tick the lost answer recorded: nothing is missed any more.
        seen = await within(caughtUp.promise, RETRY_BOUND_MS, "the catch-up's next try");
      } finally {
        await started.stop();
      }
      assert.equal(faults.lostTickAnswers, 0, "the first tick's answer was lost");
      const latest = ticksBetween(pattern, last, new Date()).at(-1)!;
      assert.equal(seen.getTime(), latest.getTime());
      assert.deepEqual(ticks, [], "no second tick written");
      assert.deepEqual(
        (await jobsOfKind()).filter((t) => t > last.getTime()),
        [latest.getTime()],
        "one job for the missed tick",
      );
    });
  });
}
