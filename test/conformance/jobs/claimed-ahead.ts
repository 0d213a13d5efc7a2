import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { after, it } from "node:test";
import type { Jobs } from "../../../src/jobs/index.ts";
import type { JobRecord, Store } from "../../../src/store/index.ts";
import type { Backend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { makeJobs, startJobs, uniqueQueue, waitForState } from "./helpers.ts";

const fixture = join(import.meta.dirname, "..", "..", "jobs", "fixtures", "worker.ts");

/** A worker process (test/jobs/fixtures/worker.ts in "hang" mode) and the ids it printed as started. */
function spawnHangingWorker(
  url: string,
  env: Record<string, string>,
): { child: ChildProcess; started: Set<string>; exited: Promise<void> } {
  const child = spawn(process.execPath, [fixture], {
    env: {
      ...process.env,
      TEND_DATABASE_URL: url,
      TEND_LOG_LEVEL: "warn",
      TEND_LOG_PRETTY: "0",
      MODE: "hang",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const started = new Set<string>();
  let buffer = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      const m = /^started (\d+)$/.exec(line);
      if (m !== null) started.add(m[1]!);
    }
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, started, exited };
}

/**
 * Enqueues 2 quick jobs, then 8 that hang, into a fresh queue, and starts a worker process with
 * concurrency 2 and prefetch 6: its first claim takes 8 jobs and starts the 2 quick ones at once;
 * once they finish, it runs 2 hanging jobs of its buffer (marking them started); 4 stay claimed
 * ahead, never started; 2 are never claimed. Then the process is SIGKILLed.
 */
async function killWorkerHoldingClaimedAhead(
  backend: Backend,
  jobs: Jobs,
  queue: string,
  leaseMs: number,
): Promise<{ ids: string[]; started: Set<string>; workerId: string }> {
  const results = await jobs.enqueueMany([
    ...[0, 1].map(() => ({ kind: "work", payload: { quick: true }, queue })),
    ...[2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ kind: "work", payload: { n }, queue })),
  ]);
  const ids = results.map((r) => r.id);
  const w = spawnHangingWorker(backend.url, {
    QUEUE: queue,
    CONCURRENCY: "2",
    PREFETCH: "6",
    LEASE_MS: String(leaseMs),
  });
  try {
    await waitFor(() => w.started.size === 2 || null, {
      timeoutMs: 20_000,
      message: "the worker process to start two hanging jobs from its buffer",
    });
    // The quick jobs' completions and the hanging jobs' start marks are written after their
    // handlers start (a worker dying within that round trip counts them as never started): wait
    // until the database has them.
    const running = await waitFor(
      async () => {
        const list = await jobs.list({ queue });
        const running = list.filter((j) => j.state === "running");
        const completed = list.filter((j) => j.state === "completed").length;
        const marked = running.filter((j) => j.startedAt !== null).length;
        return completed === 2 && running.length === 6 && marked === 2 ? running : null;
      },
      { timeoutMs: 20_000, message: "2 jobs completed, 2 hanging (marked started) and 4 claimed ahead" },
    );
    const workerId = running[0]!.workerId!;
    return { ids, started: new Set(w.started), workerId };
  } finally {
    w.child.kill("SIGKILL");
    await w.exited;
  }
}

function byId(list: JobRecord[]): Map<string, JobRecord> {
  return new Map(list.map((j) => [j.id, j]));
}

/**
 * Jobs a worker only claimed ahead (prefetch) and never started must not spend an attempt nor
 * count as lost when the worker dies: whether a supervisor rescues its jobs at once or their
 * leases lapse.
 */
export function claimedAhead(ctx: () => { backend: Backend; store: Store }): void {
  const stops: Array<() => Promise<void>> = [];
  after(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  it("a killed worker's jobs claimed ahead and never started keep their attempt when a supervisor rescues them", async () => {
    const { backend, store } = ctx();
    const queue = uniqueQueue("ahead");
    const jobs = makeJobs(store);
    const { ids, started, workerId } = await killWorkerHoldingClaimedAhead(backend, jobs, queue, 30_000);
    assert.deepEqual([...started].sort(), [ids[2], ids[3]].sort(), "the first two hanging jobs started");

    const rescued = await store.jobs.rescueWorker(workerId, "worker process killed (SIGKILL)");
    assert.deepEqual(
      rescued.map((r) => r.id).sort(),
      [...started].sort(),
      "only the started jobs are reported rescued",
    );
    const after = byId(await jobs.list({ queue }));
    for (const id of ids.slice(0, 2)) {
      assert.equal(after.get(id)?.state, "completed");
      assert.equal(after.get(id)?.attempt, 1);
    }
    for (const id of started) {
      const job = after.get(id)!;
      assert.equal(job.state, "retryable", `started job ${id}`);
      assert.equal(job.attempt, 1, `started job ${id} spent its attempt`);
      assert.equal(job.lost, 1, `started job ${id} counts one lost attempt`);
      assert.equal(job.errors.length, 1);
      assert.equal(job.errors[0]?.code, "TEND_E_WORKER_LOST");
    }
    for (const id of ids.slice(4)) {
      const job = after.get(id)!;
      assert.equal(job.state, "available", `claimed-ahead job ${id} is available again`);
      assert.equal(job.attempt, 0, `claimed-ahead job ${id} did not spend an attempt`);
      assert.equal(job.lost, 0, `claimed-ahead job ${id} is not counted lost`);
      assert.deepEqual(job.errors, [], `claimed-ahead job ${id} has no error recorded`);
      assert.equal(job.startedAt, null);
      assert.equal(job.workerId, null);
      assert.equal(job.leaseToken, null);
    }

    // Every job then runs to completion once, with the attempt numbers above.
    jobs.define("work", ({ attempt }) => ({ attempt }), { queue });
    const worker = await startJobs(jobs);
    stops.push(() => worker.stop());
    for (const id of ids.slice(2)) {
      const job = await waitForState(jobs, id, "completed");
      assert.equal(job.attempt, started.has(id) ? 2 : 1, `job ${id}'s attempts`);
      assert.deepEqual(job.result, { attempt: job.attempt });
    }
  });

  it("a killed worker's jobs claimed ahead and never started keep their attempt when their leases lapse", async () => {
    const { backend, store } = ctx();
    const queue = uniqueQueue("ahead");
    const jobs = makeJobs(store, { lease: 1_000 });
    const { ids, started } = await killWorkerHoldingClaimedAhead(backend, jobs, queue, 1_000);
    jobs.define("work", ({ attempt }) => ({ attempt }), { queue });
    // This worker's maintenance rescues the lapsed leases, then it runs every job.
    const worker = await startJobs(jobs);
    stops.push(() => worker.stop());
    for (const id of ids.slice(2)) {
      const job = await waitForState(jobs, id, "completed");
      if (started.has(id)) {
        assert.equal(job.attempt, 2, `started job ${id}: its lost attempt and the one that completed`);
        assert.equal(job.lost, 1);
        assert.equal(job.errors[0]?.code, "TEND_E_LEASE_EXPIRED");
      } else {
        assert.equal(job.attempt, 1, `job ${id} never started before: one attempt`);
        assert.equal(job.lost, 0);
        assert.deepEqual(job.errors, []);
      }
    }
  });
}
