import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { makeJobs, startJobs, uniqueQueue, waitForState } from "../conformance/jobs/helpers.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const fixture = join(import.meta.dirname, "fixtures", "worker.ts");

function spawnWorker(
  url: string,
  env: Record<string, string>,
): { child: ChildProcess; lines: string[]; waitLine(re: RegExp): Promise<string> } {
  const child = spawn(process.execPath, [fixture], {
    env: { ...process.env, TEND_DATABASE_URL: url, TEND_LOG_LEVEL: "warn", TEND_LOG_PRETTY: "0", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  let buffer = "";
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  return {
    child,
    lines,
    waitLine: (re) =>
      waitFor(() => lines.find((l) => re.test(l)), {
        timeoutMs: 20_000,
        message: `a line matching ${re} from the worker`,
      }),
  };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

for (const driver of ["sqlite", "postgres"] as const) {
  describe(`job worker processes (${driver})`, () => {
    let backend: Backend | null = null;
    const children: ChildProcess[] = [];
    after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      await Promise.all(children.map(exited));
      await backend?.cleanup();
    });

    it("a worker SIGKILLed mid-job: another completes the job after the lease lapses", async (t) => {
      backend = await createBackend(driver);
      if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
      const store = await backend.open();
      const queue = uniqueQueue();
      const jobs = makeJobs(store, { lease: 1_500 });
      const { id } = await jobs.enqueue("work", { n: 1 }, { queue });
      const w = spawnWorker(backend.url, { QUEUE: queue, MODE: "hang", LEASE_MS: "1500" });
      children.push(w.child);
      await w.waitLine(new RegExp(`^started ${id}$`));
      const running = await jobs.get(id);
      assert.equal(running?.state, "running");
      w.child.kill("SIGKILL");
      await exited(w.child);
      const killedAt = Date.now();
      jobs.define("work", ({ attempt }) => ({ attempt }), { queue });
      const worker = await startJobs(jobs);
      try {
        const job = await waitForState(jobs, id, "completed", 15_000);
        const rescueMs = Date.now() - killedAt;
        assert.equal(job.attempt, 2);
        assert.equal(job.errors[0]?.code, "TEND_E_LEASE_EXPIRED");
        assert.ok(rescueMs < 1_500 + 5_000, `rescued within lease + 5 s (took ${rescueMs} ms)`);
      } finally {
        await worker.stop();
      }
    });

    it("two worker processes on one queue never run the same job; SIGTERM drains them", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
      const store = await backend.open();
      const queue = uniqueQueue();
      const tmp = await makeTempDir();
      t.after(() => tmp.cleanup());
      const record = join(tmp.dir, "record.log");
      writeFileSync(record, "");
      const jobs = makeJobs(store);
      const total = 600;
      const workers = [0, 1].map(() =>
        spawnWorker(backend!.url, {
          QUEUE: queue,
          MODE: "record",
          RECORD_FILE: record,
          CONCURRENCY: "8",
          // No claim-ahead, and a handler waits until both processes have started a job: each
          // process holds at most 8 jobs at a time, so neither can take all 600 (on SQLite the
          // first woken once claimed them all ahead before the other polled).
          PREFETCH: "0",
          MEET: "2",
        }),
      );
      children.push(...workers.map((w) => w.child));
      // Both workers up before the jobs exist: otherwise the first one to start may finish all
      // 600 before the second has loaded, and the test would prove nothing about contention.
      await Promise.all(workers.map((w) => w.waitLine(/^ready$/)));
      await jobs.enqueueMany(
        Array.from({ length: total }, (_, n) => ({ kind: "work", queue, payload: { n } })),
      );
      await waitFor(
        () =>
          readFileSync(record, "utf8")
            .split("\n")
            .filter((l) => l.startsWith("end ")).length >= total,
        {
          timeoutMs: 60_000,
          message: `${total} jobs to finish`,
        },
      );
      for (const w of workers) w.child.kill("SIGTERM");
      const codes = await Promise.all(workers.map((w) => exited(w.child)));
      assert.deepEqual(codes, [0, 0]);
      const lines = readFileSync(record, "utf8").trim().split("\n");
      const starts = new Map<string, string[]>();
      for (const line of lines) {
        const [what, id, pid] = line.split(" ");
        if (what === "start") starts.set(id!, [...(starts.get(id!) ?? []), pid!]);
      }
      assert.equal(starts.size, total);
      const twice = [...starts].filter(([, pids]) => pids.length > 1);
      assert.deepEqual(twice, [], "no job ran twice");
      const pids = new Set([...starts.values()].flat());
      assert.equal(pids.size, 2, "both processes took work");
      const left = await jobs.list({ queue, state: "running" });
      assert.deepEqual(left, [], "no job left running after SIGTERM");
    });
  });
}
