import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { openStore } from "../../src/store/index.ts";
import { makeJobs, uniqueQueue } from "../conformance/jobs/helpers.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

/*
 * Several worker processes on one SQLite file (the default setup of `tend supervise`). Waiting for
 * another process's write lock must never stall a worker's event loop: a stalled loop cannot renew
 * its leases, so its jobs are rescued while they run and run twice, and its heartbeats are judged
 * lost. The bound on the loop delay below is a behaviour (a quarter of the lease, far above what a
 * loop that never waits on the file lock shows), not a performance target.
 */

const fixture = join(import.meta.dirname, "fixtures", "sleeper-worker.ts");
const hangFixture = join(import.meta.dirname, "fixtures", "worker.ts");
const LEASE_MS = 2_000;
const TOTAL = 3_000;

interface Report {
  pid: number;
  maxDelayMs: number;
  counters: { claimed: number; completed: number; lostLeases: number } | null;
}

function spawnWorker(url: string, env: Record<string, string>, program = fixture) {
  const child = spawn(process.execPath, [program], {
    env: { ...process.env, TEND_DATABASE_URL: url, TEND_LOG_LEVEL: "warn", TEND_LOG_PRETTY: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: string[] = [];
  const err: string[] = [];
  const collect = (into: string[]) => {
    let buffer = "";
    return (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      into.push(...parts);
    };
  };
  child.stdout.setEncoding("utf8").on("data", collect(out));
  child.stderr.setEncoding("utf8").on("data", collect(err));
  return { child, out, err };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("SQLite: several worker processes on one file", () => {
  const children: ChildProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await Promise.all(children.map(exited));
    for (const c of cleanups.reverse()) await c();
  });

  it("no job runs twice, no lease is judged lost, and no worker's event loop waits on the file lock", async () => {
    const tmp = await makeTempDir("tend-sqlite-procs-");
    cleanups.push(tmp.cleanup);
    const url = `sqlite:${join(tmp.dir, "jobs.db")}`;
    const record = join(tmp.dir, "record.log");
    writeFileSync(record, "");
    const store = await openStore(url);
    cleanups.push(() => store.close());
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const workers = [0, 1, 2].map(() =>
      spawnWorker(url, { QUEUE: queue, LEASE_MS: String(LEASE_MS), CONCURRENCY: "10", RECORD_FILE: record }),
    );
    children.push(...workers.map((w) => w.child));
    await waitFor(() => workers.every((w) => w.out.includes("ready")), {
      timeoutMs: 30_000,
      message: "three workers ready",
    });

    // The producer writes in many small calls and reads stats while the workers drain.
    const statsTimer = setInterval(() => void store.jobs.stats().catch(() => {}), 20);
    try {
      for (let i = 0; i < TOTAL; i += 50) {
        await jobs.enqueueMany(
          Array.from({ length: 50 }, (_, n) => ({ kind: "sleep", queue, payload: { n: i + n } })),
        );
      }
      await waitFor(
        async () => {
          const [s] = (await store.jobs.stats()).filter((q) => q.queue === queue);
          return s !== undefined && s.available + s.running + s.retryable + s.scheduled === 0;
        },
        { timeoutMs: 120_000, intervalMs: 50, message: `${TOTAL} jobs to finish` },
      );
    } finally {
      clearInterval(statsTimer);
    }
    for (const w of workers) w.child.kill("SIGTERM");
    assert.deepEqual(await Promise.all(workers.map((w) => exited(w.child))), [0, 0, 0]);

    const starts = new Map<string, number>();
    for (const line of readFileSync(record, "utf8").split("\n")) {
      const [what, id] = line.split(" ");
      if (what === "start") starts.set(id!, (starts.get(id!) ?? 0) + 1);
    }
    assert.equal(starts.size, TOTAL, "every job ran");
    const twice = [...starts].filter(([, n]) => n > 1).map(([id]) => id);
    assert.deepEqual(twice, [], "no job ran twice");

    const reports = workers.map((w) => {
      const line = w.out.find((l) => l.startsWith('{"pid"'));
      assert.ok(line, `worker ${w.child.pid} printed its report`);
      return JSON.parse(line) as Report;
    });
    if (process.env["TEND_TEST_DEBUG"]) console.log(JSON.stringify(reports));
    const lost = workers.flatMap((w) => [...w.out, ...w.err].filter((l) => l.includes("lost the lease")));
    assert.deepEqual(lost, [], "no lease judged lost");
    for (const r of reports) {
      assert.equal(r.counters?.lostLeases, 0, `worker ${r.pid}: lostLeases`);
      assert.ok(
        r.maxDelayMs < LEASE_MS / 4,
        `worker ${r.pid}: event loop stalled ${Math.round(r.maxDelayMs)} ms (bound ${LEASE_MS / 4} ms)`,
      );
    }
    const done = await jobs.list({ queue, state: "completed", limit: 10_000 });
    assert.equal(done.length, TOTAL);
    assert.ok(
      done.every((j) => j.attempt === 1),
      "every job completed on its first attempt",
    );
  });

  it("a cancel requested from another process stops the running job promptly", async () => {
    const tmp = await makeTempDir("tend-sqlite-procs-");
    cleanups.push(tmp.cleanup);
    const url = `sqlite:${join(tmp.dir, "cancel.db")}`;
    const store = await openStore(url);
    cleanups.push(() => store.close());
    const queue = uniqueQueue();
    const jobs = makeJobs(store);
    const w = spawnWorker(url, { QUEUE: queue, MODE: "hang", LEASE_MS: "30000" }, hangFixture);
    children.push(w.child);
    const { id } = await jobs.enqueue("work", {}, { queue });
    await waitFor(() => w.out.includes(`started ${id}`), { timeoutMs: 30_000, message: "the job started" });
    const asked = Date.now();
    await jobs.cancel(id);
    // The worker learns of it from its check of other processes' commits, not its 10 s heartbeat.
    await waitFor(async () => (await jobs.get(id))?.state === "cancelled", {
      timeoutMs: 5_000,
      message: "the job cancelled by its worker",
    });
    assert.ok(Date.now() - asked < 5_000);
    w.child.kill("SIGTERM");
    assert.equal(await exited(w.child), 0);
  });
});
