import assert from "node:assert/strict";
import { once } from "node:events";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { type JobRecord, type NewJob, openStore, type Store } from "../../src/store/index.ts";
import type { WorkerProcess } from "../../src/supervise/worker-process.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import {
  alive,
  HANG_FAST,
  nextReady,
  type Running,
  readyWorkers,
  recordSpawns,
  runSupervisor,
  steady,
} from "./helpers.ts";

const APP = join(import.meta.dirname, "fixtures", "app.ts");
const running: Running[] = [];
let store: Store;
let database: string;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await makeTempDir("tend-supervise-jobs-");
  cleanup = t.cleanup;
  database = `sqlite:${join(t.dir, "tend.db")}`;
  store = await openStore(database);
});

after(async () => {
  await Promise.all(running.map((r) => r.stop()));
  await store.close();
  await cleanup();
});

/** Starts a supervisor that is stopped when the test ends (tests share one database). */
function start(t: TestContext, options: Parameters<typeof runSupervisor>[0]): Running {
  const r = runSupervisor({ program: APP, store, database, ...options });
  running.push(r);
  t.after(() => r.stop());
  return r;
}

function job(kind: string, payload: unknown, queue = "default"): NewJob {
  return {
    kind,
    queue,
    payload: JSON.stringify(payload),
    priority: 0,
    runAt: new Date(),
    maxAttempts: 5,
    uniqueKey: null,
    batchId: null,
    batchIndex: null,
  };
}

async function enqueue(kind: string, payload: unknown, count = 1): Promise<string[]> {
  const results = await store.jobs.insert(Array.from({ length: count }, () => job(kind, payload)));
  return results.map((r) => r.id);
}

async function completed(id: string): Promise<JobRecord> {
  return waitFor(
    async () => {
      const j = await store.jobs.get(id);
      return j?.state === "completed" ? j : null;
    },
    { timeoutMs: 15_000, message: `job ${id} completed` },
  );
}

function workerOf(r: Running, workerId: string | null): WorkerProcess | undefined {
  return r.supervisor.workers().find((w) => w.id === workerId);
}

describe("supervisor with real jobs (SQLite)", () => {
  it("a SIGKILLed worker is replaced at once from the spare, and its job is rescued at once and completed by another", async (t) => {
    const r = start(t, { min: 2, max: 2 });
    await steady(r.supervisor, 2);
    const spawns = recordSpawns();
    t.after(() => spawns.dispose());
    const [id] = await enqueue("sleep", { ms: 800 });
    const claimed = await waitFor(async () => {
      const j = await store.jobs.get(id!);
      return j?.state === "running" ? j : null;
    });
    const victim = workerOf(r, claimed.workerId);
    assert.ok(victim, `the job runs in a supervised worker (${claimed.workerId})`);
    const killedAt = Date.now();
    const replaced = nextReady(r.supervisor, (w) => w.id !== victim.id && w.slot === victim.slot);
    process.kill(victim.pid, "SIGKILL");
    const replacement = await replaced;
    const took = Date.now() - killedAt;
    t.diagnostic(`replaced in ${took} ms (bench:supervise measures this)`);
    assert.equal(spawns.fromSpare(replacement.id), true, "the replacement was the booted spare");
    assert.ok(took < 5_000, `replaced in ${took} ms`);
    const done = await completed(id!);
    assert.notEqual(done.workerId, victim.id);
    assert.notEqual((done.result as { pid: number }).pid, victim.pid);
    assert.equal(done.attempt, 2);
    assert.ok(Date.now() - killedAt < 10_000, "rescued long before its 30 s lease could expire");
    // The replacement registers its slot's restarts (the dashboard's workers page reads them).
    const row = await waitFor(
      async () => (await store.processes.list()).find((p) => p.id === replacement.id) ?? null,
      {
        message: "the replacement's row in the process registry",
      },
    );
    assert.equal(row.restarts, 1);
    assert.equal(row.masterPid, process.pid);
  });

  it("a worker blocked by a job is killed and replaced soon after its hang timeout; the job completes elsewhere", async (t) => {
    const r = start(t, { min: 1, max: 1, ...HANG_FAST });
    await steady(r.supervisor, 1);
    const first = readyWorkers(r.supervisor)[0]!;
    const killed = once(r.supervisor, "worker-killed") as Promise<[WorkerProcess, string, string]>;
    const [id] = await enqueue("hang", {});
    const claimed = await waitFor(async () => {
      const j = await store.jobs.get(id!);
      return j?.state === "running" ? j : null;
    });
    const blockedSince = claimed.startedAt?.getTime() ?? Date.now();
    const [w, problem] = await killed;
    assert.equal(w.id, first.id);
    assert.equal(problem, "hung");
    await nextReady(r.supervisor, (x) => x.id !== first.id);
    const took = Date.now() - blockedSince;
    assert.ok(
      took < r.supervisor.options.hangTimeoutMs + 5_000,
      `replaced ${took} ms after the job blocked its loop`,
    );
    const done = await completed(id!);
    assert.equal(done.attempt, 2);
    assert.ok(!alive(first.pid));
  });

  it("a poison job that hangs every worker is discarded after 3 hangs, and the fleet stays up", async (t) => {
    // An intensity that three hang kills would exceed if they counted against the fleet.
    const r = start(t, { min: 1, max: 1, ...HANG_FAST, restart: { maxRestarts: 2, period: 60_000 } });
    await steady(r.supervisor, 1);
    const kills: string[] = [];
    r.supervisor.on("worker-killed", (_w: WorkerProcess, problem: string) => kills.push(problem));
    const [id] = await enqueue("poison", {});
    const discarded = await waitFor(
      async () => {
        const j = await store.jobs.get(id!);
        return j?.state === "discarded" ? j : null;
      },
      { timeoutMs: 20_000, message: "the poison job discarded" },
    );
    assert.deepEqual(kills, ["hung", "hung", "hung"]);
    assert.equal(discarded.attempt, 3);
    assert.equal(discarded.lost, 3);
    assert.deepEqual(
      discarded.errors.map((e) => e.code),
      ["TEND_E_WORKER_LOST", "TEND_E_WORKER_LOST", "TEND_E_JOB_POISONED"],
    );
    assert.match(discarded.errors[2]?.message ?? "", /died or hung 3 times/);
    const status = r.supervisor.status();
    assert.equal(status.state, "running", "the fleet did not give up");
    assert.equal(
      status.restartsInWindow,
      0,
      "hang kills caused by the job do not count toward the intensity",
    );
    // The fleet still works.
    const [ok] = await enqueue("sleep", { ms: 10 });
    await completed(ok!);
  });

  it("a long wait adds one worker per start, not one per scale interval while the added worker starts", async (t) => {
    // One job at a time per worker, and a backlog too small to scale by itself (jobsPerWorker
    // 100): only the waiting rule adds workers. Scale every 100 ms; a worker starts in far longer.
    const r = start(t, {
      min: 1,
      max: 3,
      spare: false,
      scaling: { jobsPerWorker: 100, maxWait: 200, scaleDownCooldown: "1m" },
      env: { FIXTURE_CONCURRENCY: "1" },
    });
    await nextReady(r.supervisor);
    // Workers not ready when each decision was made ("scaled" is emitted before the new target is acted on).
    const decisions: Array<{ from: number; to: number; reason: string; notReady: number }> = [];
    r.supervisor.on("scaled", (from: number, to: number, reason: string) => {
      decisions.push({
        from,
        to,
        reason,
        notReady: r.supervisor.workers().filter((w) => w.state !== "ready").length,
      });
    });
    // More 2 s jobs than the fleet can ever run at once: the oldest always waits.
    const ids = await enqueue("sleep", { ms: 2_000 }, 12);
    t.after(async () => {
      for (const id of ids) await store.jobs.cancel(id).catch(() => {});
    });
    await waitFor(() => readyWorkers(r.supervisor).length === 3, {
      timeoutMs: 20_000,
      message: "3 ready workers",
    });
    assert.deepEqual(
      decisions.map((d) => `${d.from}->${d.to} ${d.reason}`),
      ["1->2 waiting", "2->3 waiting"],
    );
    assert.deepEqual(
      decisions.map((d) => d.notReady),
      [0, 0],
      "each worker was added only once the previous one was ready",
    );
  });

  it("scales up to max under a backlog and back down to min when idle", async (t) => {
    const r = start(t, {
      min: 1,
      max: 3,
      scaling: { jobsPerWorker: 2, scaleDownCooldown: 300, horizon: "1s" },
      env: { FIXTURE_CONCURRENCY: "2" },
    });
    await nextReady(r.supervisor);
    // The most workers ready at once, counted at each ready event (a backlog drained before the
    // third worker's boot would otherwise be a race with a polling check).
    let peak = 0;
    r.supervisor.on("worker-ready", () => {
      peak = Math.max(peak, readyWorkers(r.supervisor).length);
    });
    // 60 jobs of 250 ms at concurrency 2: 7.5 s for one worker, long enough for two more to boot.
    const ids = await enqueue("sleep", { ms: 250 }, 60);
    for (const id of ids) await completed(id);
    assert.equal(peak, 3, "scaled up to max (3 ready workers at once)");
    await waitFor(() => r.supervisor.workers().length === 1 && r.supervisor.desired === 1, {
      timeoutMs: 15_000,
      message: "back to 1 worker",
    });
    assert.equal(r.supervisor.status().restartsTotal, 0, "scaling down is not a failure");
  });
});
