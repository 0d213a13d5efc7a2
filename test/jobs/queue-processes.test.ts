import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { makeJobs, uniqueQueue, waitForState } from "../conformance/jobs/helpers.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const fixture = join(import.meta.dirname, "fixtures", "queues-worker.ts");

function spawnWorker(
  url: string,
  env: Record<string, string>,
): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [fixture], {
    env: { ...process.env, TEND_DATABASE_URL: url, TEND_LOG_LEVEL: "warn", TEND_LOG_PRETTY: "0", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("ready\n")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  });
  return { child, ready };
}

/**
 * PostgreSQL: resolves once `count` sessions of the backend's database are listening (their last
 * statement a LISTEN). A worker prints "ready" as its app starts, which can be before its jobs
 * worker listens: a job enqueued in between wakes only the workers already listening, and one that
 * missed it may find every key's slots taken by the other when it next polls. No-op on SQLite.
 */
async function listening(backend: Backend, count: number): Promise<void> {
  if (backend.driver !== "postgres") return;
  const client = new pg.Client({ connectionString: backend.url });
  await client.connect();
  try {
    await waitFor(
      async () =>
        (
          await client.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
          )
        ).rows[0]!.n >= count,
      { message: `${count} worker processes listening` },
    );
  } finally {
    await client.end();
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** The record file's lines as [what, id, pid]. */
function records(file: string): Array<[string, string, string]> {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split(" ") as [string, string, string]);
}

for (const driver of ["sqlite", "postgres"] as const) {
  describe(`queue pause across worker processes (${driver})`, () => {
    let backend: Backend | null = null;
    const children: ChildProcess[] = [];
    before(async () => {
      backend = await createBackend(driver);
    });
    after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      await Promise.all(children.map(exited));
      await backend?.cleanup();
    });

    it("two processes claim nothing from a paused queue, finish its running job, and run it once resumed", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
      const store = await backend.open();
      const paused = uniqueQueue("paused");
      const control = uniqueQueue("control");
      const tmp = await makeTempDir();
      t.after(() => tmp.cleanup());
      const record = join(tmp.dir, "record.log");
      writeFileSync(record, "");
      const jobs = makeJobs(store);
      const workers = [0, 1].map(() =>
        spawnWorker(backend!.url, { QUEUES: `${paused},${control}`, RECORD_FILE: record, CONCURRENCY: "4" }),
      );
      children.push(...workers.map((w) => w.child));
      await Promise.all(workers.map((w) => w.ready));

      // A job of the queue is running when the pause comes: it finishes.
      const long = await jobs.enqueue(`work.${paused}`, { holdMs: 800 }, { queue: paused });
      await waitFor(() => records(record).some(([what, id]) => what === "start" && id === long.id), {
        message: "the long job to start",
      });
      await jobs.pauseQueue(paused);
      const held = await jobs.enqueueMany(
        Array.from({ length: 20 }, (_, n) => ({ kind: `work.${paused}`, queue: paused, payload: { n } })),
      );
      const heldIds = new Set(held.map((r) => r.id));
      // The event that bounds the wait: both processes were woken by these inserts after the paused
      // queue's, claimed and finished control work (each holds a job 50 ms, so both take some).
      const controlJobs = await jobs.enqueueMany(
        Array.from({ length: 40 }, (_, n) => ({
          kind: `work.${control}`,
          queue: control,
          payload: { n, holdMs: 50 },
        })),
      );
      const controlIds = new Set(controlJobs.map((r) => r.id));
      await waitFor(
        () => records(record).filter(([what, id]) => what === "end" && controlIds.has(id)).length === 40,
        { timeoutMs: 30_000, message: "the control queue's 40 jobs to finish" },
      );
      await waitFor(() => records(record).some(([what, id]) => what === "end" && id === long.id), {
        message: "the running job of the paused queue to finish",
      });
      // Its outcome is written just after its handler returned.
      await waitForState(jobs, long.id, "completed");
      const controlPids = new Set(
        records(record)
          .filter(([what, id]) => what === "start" && controlIds.has(id))
          .map(([, , pid]) => pid),
      );
      assert.equal(controlPids.size, 2, "both processes were claiming meanwhile");
      const started = records(record).filter(([what, id]) => what === "start" && heldIds.has(id));
      assert.deepEqual(started, [], "no job of the paused queue started");
      const pending = await jobs.list({ queue: paused, state: "available" });
      assert.equal(pending.length, 20);
      assert.ok((await jobs.listQueues()).find((q) => q.queue === paused)?.paused);

      const resumedAt = Date.now();
      await jobs.resumeQueue(paused);
      await waitFor(() => records(record).some(([what, id]) => what === "start" && heldIds.has(id)), {
        message: "a job of the resumed queue to start",
      });
      const firstStartMs = Date.now() - resumedAt;
      await waitFor(
        () => records(record).filter(([what, id]) => what === "end" && heldIds.has(id)).length === 20,
        { timeoutMs: 30_000, message: "the resumed queue's 20 jobs to finish" },
      );
      t.diagnostic(`first job of the resumed queue started ${firstStartMs} ms after resume`);
      assert.ok(firstStartMs < 2_000, `resumed within 2 s (took ${firstStartMs} ms)`);

      for (const w of workers) w.child.kill("SIGTERM");
      assert.deepEqual(await Promise.all(workers.map((w) => exited(w.child))), [0, 0]);
    });

    it("concurrency keys: at most 2 of a key run at once across two processes; small keys finish before a big key's backlog", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
      const store = await backend.open();
      const queue = uniqueQueue("keyed");
      const tmp = await makeTempDir();
      t.after(() => tmp.cleanup());
      const record = join(tmp.dir, "record.log");
      writeFileSync(record, "");
      const jobs = makeJobs(store);
      const workers = [0, 1].map(() =>
        spawnWorker(backend!.url, {
          QUEUES: queue,
          RECORD_FILE: record,
          CONCURRENCY: "8",
          KEY_LIMIT: "2",
          // No claim-ahead, and a handler waits until both processes have started a job: neither
          // can take all 22 key slots (on SQLite the first to claim re-took each freed slot before
          // the other polled, and once ran 176 of the 180 jobs).
          PREFETCH: "0",
          MEET: "2",
        }),
      );
      children.push(...workers.map((w) => w.child));
      await Promise.all(workers.map((w) => w.ready));
      await listening(backend, 2);
      // The big key's backlog first, then ten small keys: round-robin serves them long before it drains.
      const big = Array.from({ length: 150 }, (_, n) => ({ n, key: "big", holdMs: 10 }));
      const small = Array.from({ length: 30 }, (_, n) => ({ n, key: `small-${n % 10}`, holdMs: 10 }));
      const enqueuedAt = Date.now();
      await jobs.enqueueMany(
        [...big, ...small].map((payload) => ({
          kind: `work.${queue}`,
          queue,
          payload,
          concurrencyKey: payload.key,
          concurrencyLimit: 2,
        })),
      );
      await waitFor(
        () =>
          readFileSync(record, "utf8")
            .split("\n")
            .filter((l) => l.startsWith("end ")).length === 180,
        {
          timeoutMs: 60_000,
          message: "the 180 keyed jobs to finish",
        },
      );
      t.diagnostic(
        `180 keyed jobs (150 of one key, limit 2, 10 ms each) ran in ${Date.now() - enqueuedAt} ms`,
      );
      const lines = readFileSync(record, "utf8")
        .split("\n")
        .filter((l) => l !== "");
      const running = new Map<string, number>();
      const most = new Map<string, number>();
      const lastEnd = new Map<string, number>();
      const pids = new Set<string>();
      lines.forEach((line, at) => {
        const [what, , pid, key] = line.split(" ") as [string, string, string, string];
        pids.add(pid);
        const n = (running.get(key) ?? 0) + (what === "start" ? 1 : -1);
        running.set(key, n);
        most.set(key, Math.max(most.get(key) ?? 0, n));
        if (what === "end") lastEnd.set(key, at);
      });
      t.diagnostic(
        `most running at once: big ${most.get("big")}, small keys ${[...most]
          .filter(([k]) => k !== "big")
          .map(([, n]) => n)
          .join(",")}`,
      );
      for (const [key, n] of most) assert.ok(n <= 2, `key ${key} had ${n} jobs running at once`);
      assert.equal(most.get("big"), 2, "the big key ran 2 at once");
      assert.equal(pids.size, 2, "both processes ran keyed jobs");
      const bigDone = lastEnd.get("big")!;
      for (let k = 0; k < 10; k++)
        assert.ok(lastEnd.get(`small-${k}`)! < bigDone, `small-${k} finished before the big key's backlog`);
      for (const w of workers) w.child.kill("SIGTERM");
      assert.deepEqual(await Promise.all(workers.map((w) => exited(w.child))), [0, 0]);
    });

    it("rate limit: across two processes no window starts more than the limit, and every job runs", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
      const store = await backend.open();
      const queue = uniqueQueue("rated");
      const tmp = await makeTempDir();
      t.after(() => tmp.cleanup());
      const record = join(tmp.dir, "record.log");
      writeFileSync(record, "");
      const jobs = makeJobs(store);
      const workers = [0, 1].map(() =>
        spawnWorker(backend!.url, {
          QUEUES: queue,
          RECORD_FILE: record,
          CONCURRENCY: "8",
          RATE_LIMIT: "4/500",
        }),
      );
      children.push(...workers.map((w) => w.child));
      await Promise.all(workers.map((w) => w.ready));
      const enqueuedAt = Date.now();
      await jobs.enqueueMany(
        Array.from({ length: 24 }, (_, n) => ({
          kind: `work.${queue}`,
          queue,
          payload: { n },
          rateLimit: { limit: 4, per: 500 },
        })),
      );
      await waitFor(async () => (await jobs.list({ queue, state: "completed" })).length === 24, {
        timeoutMs: 30_000,
        message: "the 24 rate-limited jobs to complete",
      });
      const tookMs = Date.now() - enqueuedAt;
      const done = await jobs.list({ queue, state: "completed" });
      const perWindow = new Map<number, number>();
      for (const j of done) {
        const w = Math.floor(j.startedAt!.getTime() / 500);
        perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
      }
      t.diagnostic(
        `starts per 500 ms window: ${[...perWindow.values()].join(",")}; all done in ${tookMs} ms`,
      );
      for (const [w, n] of perWindow) assert.ok(n <= 4, `window ${w} started ${n} jobs (limit 4)`);
      assert.ok(
        done.every((j) => j.attempt === 1 && j.errors.length === 0),
        "no attempt spent waiting",
      );
      const pids = new Set(
        readFileSync(record, "utf8")
          .split("\n")
          .filter((l) => l.startsWith("start "))
          .map((l) => l.split(" ")[2]),
      );
      // Both processes claim all along; one of them may win every window's starts on a busy machine.
      t.diagnostic(`processes that ran jobs: ${pids.size}`);
      for (const w of workers) w.child.kill("SIGTERM");
      assert.deepEqual(await Promise.all(workers.map((w) => exited(w.child))), [0, 0]);
    });

    it("queue limits: two processes run at most the queue's concurrency limit, and a rate limit set for the queue holds", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
      const store = await backend.open();
      const capped = uniqueQueue("capped");
      const rated = uniqueQueue("qrated");
      const tmp = await makeTempDir();
      t.after(() => tmp.cleanup());
      const record = join(tmp.dir, "record.log");
      writeFileSync(record, "");
      const jobs = makeJobs(store);
      // Set before the workers start: every process applies it from its first claim.
      await jobs.setQueueLimits(capped, { concurrency: 2 });
      await jobs.setQueueLimits(rated, { rate: { limit: 3, per: 500 } });
      const workers = [0, 1].map(() =>
        spawnWorker(backend!.url, { QUEUES: `${capped},${rated}`, RECORD_FILE: record, CONCURRENCY: "4" }),
      );
      children.push(...workers.map((w) => w.child));
      await Promise.all(workers.map((w) => w.ready));
      await jobs.enqueueMany([
        ...Array.from({ length: 12 }, (_, n) => ({
          kind: `work.${capped}`,
          queue: capped,
          payload: { n, holdMs: 40 },
        })),
        ...Array.from({ length: 9 }, (_, n) => ({ kind: `work.${rated}`, queue: rated, payload: { n } })),
      ]);
      await waitFor(
        async () =>
          (await jobs.list({ queue: capped, state: "completed" })).length === 12 &&
          (await jobs.list({ queue: rated, state: "completed" })).length === 9,
        { timeoutMs: 30_000, message: "every job of both queues to complete" },
      );
      const cappedIds = new Set((await jobs.list({ queue: capped })).map((j) => j.id));
      let running = 0;
      let most = 0;
      const pids = new Set<string>();
      for (const [what, id, pid] of records(record)) {
        if (!cappedIds.has(id)) continue;
        pids.add(pid);
        running += what === "start" ? 1 : -1;
        most = Math.max(most, running);
      }
      t.diagnostic(`capped queue: at most ${most} running at once, in ${pids.size} process(es)`);
      assert.equal(most, 2, "never more than the queue's limit of 2 across both processes");
      const perWindow = new Map<number, number>();
      for (const j of await jobs.list({ queue: rated, state: "completed" })) {
        const w = Math.floor(j.startedAt!.getTime() / 500);
        perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
      }
      t.diagnostic(`rated queue: starts per 500 ms window ${[...perWindow.values()].join(",")}`);
      for (const [w, n] of perWindow) assert.ok(n <= 3, `window ${w} started ${n} jobs (queue limit 3)`);
      for (const w of workers) w.child.kill("SIGTERM");
      assert.deepEqual(await Promise.all(workers.map((w) => exited(w.child))), [0, 0]);
    });
  });
}
