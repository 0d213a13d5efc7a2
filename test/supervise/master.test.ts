import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { openStore, type Store } from "../../src/store/index.ts";
import type { SuperviseOptions } from "../../src/supervise/options.ts";
import { readStatusFile, type SupervisorStatus } from "../../src/supervise/status.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { alive, FAST, FIXTURE_MASTER, FIXTURE_WORKER, fixtureRecord, sleepJob } from "./helpers.ts";

const APP = join(import.meta.dirname, "fixtures", "app.ts");
let store: Store;
let database: string;
let dir: string;
let cleanup: () => Promise<void>;
const masters: ChildProcess[] = [];

before(async () => {
  const t = await makeTempDir("tend-supervise-master-");
  cleanup = t.cleanup;
  dir = t.dir;
  database = `sqlite:${join(dir, "tend.db")}`;
  store = await openStore(database);
});

after(async () => {
  for (const m of masters) if (m.exitCode === null && m.signalCode === null) m.kill("SIGKILL");
  await store.close();
  await cleanup();
});

interface Master {
  child: ChildProcess;
  /** What the master logged (only at TEND_LOG_LEVEL=error and above, to keep it short). */
  output(): string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  statusFile: string;
  status(): Promise<SupervisorStatus>;
}

function startMaster(t: TestContext, name: string, options: Partial<SuperviseOptions>): Master {
  const statusFile = join(dir, `${name}.json`);
  // A generous hang timeout: these tests are not about hangs, and a loaded machine can stall a loop for a second.
  const opts: Partial<SuperviseOptions> = {
    program: APP,
    database,
    statusFile,
    ...FAST,
    hangTimeout: 5_000,
    ...options,
  };
  const child = spawn(process.execPath, [FIXTURE_MASTER, JSON.stringify(opts)], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, TEND_LOG_LEVEL: "error", TEND_LOG_PRETTY: "0" },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  masters.push(child);
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
  });
  return { child, output: () => output, exited, statusFile, status: () => readStatusFile(statusFile) };
}

async function readyPids(m: Master, count: number): Promise<number[]> {
  const s = await waitFor(
    async () => {
      const st = await m.status().catch(() => null);
      const ready = st?.workers.filter((w) => w.state === "ready") ?? [];
      return ready.length === count ? ready.map((w) => w.pid) : null;
    },
    { timeoutMs: 15_000, message: `${count} ready workers in the status file` },
  );
  return s;
}

async function states(ids: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const id of ids) {
    const j = await store.jobs.get(id);
    const s = j?.state ?? "missing";
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return counts;
}

describe("the master as a real process", () => {
  it("kill -9 of the master: every worker exits within 3 s, even with a job in flight", async (t) => {
    // An orphan stops within its grace; 1 s here leaves the 3 s bound 2 s for a loaded machine.
    const m = startMaster(t, "orphans", { min: 2, max: 2, orphanGrace: "1s" });
    const pids = await readyPids(m, 2);
    const [inserted] = await store.jobs.insert([sleepJob(30_000)]);
    await waitFor(async () => (await store.jobs.get(inserted!.id))?.state === "running", {
      message: "job running",
    });
    const killedAt = Date.now();
    m.child.kill("SIGKILL");
    await waitFor(() => pids.every((pid) => !alive(pid)), {
      timeoutMs: 3_000,
      message: "every orphaned worker exited",
    });
    assert.ok(Date.now() - killedAt <= 3_000);
    // Leave nothing behind for the next test: the job's lease will expire; cancel it now.
    await store.jobs.cancel(inserted!.id);
  });

  it("kill -9 of the master: what a worker started goes with it (its process group)", async (t) => {
    const m = startMaster(t, "orphan-group", {
      program: FIXTURE_WORKER,
      min: 1,
      max: 1,
      env: { FIXTURE_MODE: "ignore-stop", FIXTURE_DIR: dir },
    });
    const [pid] = await readyPids(m, 1);
    const grandchild = await waitFor(() => fixtureRecord(dir, pid!)?.grandchildPid, {
      message: "the worker's own child",
    });
    t.after(() => {
      for (const p of [pid!, grandchild]) if (alive(p)) process.kill(p, "SIGKILL");
    });
    m.child.kill("SIGKILL");
    await m.exited;
    // The worker ignores stop requests: it exits after its orphan grace, and its child with it.
    await waitFor(() => !alive(pid!) && !alive(grandchild), {
      timeoutMs: 8_000,
      message: "the orphaned worker and its child to be gone",
    });
  });

  it("kill -9 of the master while a worker is still starting: the worker exits once its task starts", async (t) => {
    const flag = join(dir, "slow-start.flag");
    const m = startMaster(t, "slow-start", {
      program: FIXTURE_WORKER,
      min: 1,
      max: 1,
      env: { FIXTURE_MODE: "slow-start", FIXTURE_FLAG: flag, FIXTURE_DIR: dir },
    });
    // The worker process exists (its record written) but has not started its task yet.
    const pid = await waitFor(
      () =>
        readdirSync(dir)
          .filter((f) => /^[0-9]+\.json$/.test(f))
          .map((f) => fixtureRecord(dir, Number(f.slice(0, -".json".length))))
          .find((r) => r?.mode === "slow-start")?.pid,
      { message: "the slow worker's record" },
    );
    t.after(() => {
      if (alive(pid)) process.kill(pid, "SIGKILL");
    });
    m.child.kill("SIGKILL");
    await m.exited;
    // Its start-up ends after the master is gone (the IPC channel already closed, pid 1 its parent).
    writeFileSync(flag, "");
    const releasedAt = Date.now();
    await waitFor(() => !alive(pid), { timeoutMs: 5_000, message: "the orphaned worker to exit" });
    t.diagnostic(`orphan exited ${Date.now() - releasedAt} ms after its task could start`);
  });

  it("kill -9 of the master: a worker whose event loop is blocked dies within 3 s too", async (t) => {
    const flag = join(dir, "frozen.flag");
    const m = startMaster(t, "frozen", {
      program: FIXTURE_WORKER,
      min: 2,
      max: 2,
      // The master must not kill the frozen worker itself before the test kills the master.
      hangTimeout: 120_000,
      orphanGrace: "1s",
      env: { FIXTURE_MODE: "hang-once", FIXTURE_FLAG: flag, FIXTURE_DIR: dir },
    });
    const pids = await readyPids(m, 2);
    // Should a worker outlive its master, do not leave it running after the test.
    t.after(() => {
      for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    });
    writeFileSync(flag, "");
    const frozen = await waitFor(() => pids.find((pid) => fixtureRecord(dir, pid)?.hangs === true), {
      message: "one worker blocking its event loop",
    });
    const killedAt = Date.now();
    m.child.kill("SIGKILL");
    const goneAfter = new Map<number, number>();
    await waitFor(
      () => {
        for (const pid of pids)
          if (!goneAfter.has(pid) && !alive(pid)) goneAfter.set(pid, Date.now() - killedAt);
        return goneAfter.size === pids.length;
      },
      { timeoutMs: 3_000, message: `every worker gone, the frozen one (${frozen}) included` },
    );
    t.diagnostic(
      `frozen worker gone after ${goneAfter.get(frozen)} ms, the idle one after ${[...goneAfter].find(([p]) => p !== frozen)?.[1]} ms`,
    );
    assert.ok(Date.now() - killedAt <= 3_000);
  });

  it("kill -9 of the master while a stopping worker still drains after `stopped`: it exits within 3 s too", async (t) => {
    const m = startMaster(t, "orphan-draining", {
      program: FIXTURE_WORKER,
      min: 1,
      max: 1,
      spare: false,
      orphanGrace: "1s",
      // The process drains for 60 s after its worker side said stopped (an inbox, an HTTP server).
      env: { FIXTURE_MODE: "linger", FIXTURE_LINGER_MS: "60000", FIXTURE_DIR: dir },
    });
    const [pid] = await readyPids(m, 1);
    t.after(() => {
      if (alive(pid!)) process.kill(pid!, "SIGKILL");
    });
    m.child.kill("SIGTERM");
    await waitFor(() => fixtureRecord(dir, pid!)?.stoppedAt, { message: "the worker side said stopped" });
    const killedAt = Date.now();
    m.child.kill("SIGKILL");
    await m.exited;
    await waitFor(() => !alive(pid!), { timeoutMs: 3_000, message: "the orphaned, draining worker to exit" });
    t.diagnostic(`draining orphan exited ${Date.now() - killedAt} ms after the master's SIGKILL`);
    assert.notEqual(fixtureRecord(dir, pid!)?.lingered, true, "it did not run on unsupervised");
  });

  it("SIGTERM with jobs in flight: they all finish, the master exits 0 and no job is left running", async (t) => {
    const m = startMaster(t, "sigterm", { min: 2, max: 2, env: { FIXTURE_CONCURRENCY: "2" } });
    const pids = await readyPids(m, 2);
    const ids = (await store.jobs.insert(Array.from({ length: 6 }, () => sleepJob(1_200)))).map((r) => r.id);
    const runningIds = await waitFor(
      async () => {
        const rows = await Promise.all(ids.map((id) => store.jobs.get(id)));
        const r = rows.filter((j) => j?.state === "running").map((j) => j!.id);
        return r.length === 4 ? r : null;
      },
      { message: "4 jobs running" },
    );
    m.child.kill("SIGTERM");
    const [code, signal] = await m.exited;
    assert.equal(signal, null);
    assert.equal(code, 0);
    for (const id of runningIds) {
      const j = await store.jobs.get(id);
      assert.equal(j?.state, "completed", `job ${id} finished`);
      assert.equal(j?.attempt, 1);
    }
    const counts = await states(ids);
    assert.equal(counts.get("running") ?? 0, 0, "no job left running");
    assert.ok(
      pids.every((pid) => !alive(pid)),
      "every worker exited",
    );
    assert.equal((await m.status()).state, "stopped");
    // The two jobs that never started stay available for the next run.
    for (const id of ids) await store.jobs.cancel(id);
  });

  it("SIGHUP: workers are replaced one by one while jobs keep completing", async (t) => {
    const m = startMaster(t, "sighup", { min: 2, max: 2, env: { FIXTURE_CONCURRENCY: "2" } });
    const oldPids = await readyPids(m, 2);
    const ids = (await store.jobs.insert(Array.from({ length: 120 }, () => sleepJob(100)))).map((r) => r.id);
    await waitFor(async () => ((await states(ids)).get("completed") ?? 0) >= 4, {
      message: "jobs completing",
    });
    m.child.kill("SIGHUP");
    let lowest = Number.POSITIVE_INFINITY;
    const newPids = await waitFor(
      async () => {
        const st = await m.status().catch(() => null);
        if (st === null) return null;
        const ready = st.workers.filter((w) => w.state === "ready");
        lowest = Math.min(lowest, ready.length);
        const fresh = ready.filter((w) => !oldPids.includes(w.pid));
        return fresh.length === 2 && st.workers.length === 2 ? fresh.map((w) => w.pid) : null;
      },
      { timeoutMs: 20_000, intervalMs: 20, message: "both workers replaced" },
    );
    assert.ok(lowest >= 2, `ready workers dropped to ${lowest} during the roll`);
    assert.ok(
      oldPids.every((pid) => !alive(pid)),
      "old workers exited",
    );
    // Jobs enqueued after the roll: the new workers take them whether or not the first backlog
    // outlasted the roll (on a loaded machine the roll may take longer than the backlog's 3 s).
    const later = (await store.jobs.insert(Array.from({ length: 8 }, () => sleepJob(10)))).map((r) => r.id);
    ids.push(...later);
    await waitFor(async () => (await states(ids)).get("completed") === ids.length, {
      timeoutMs: 20_000,
      message: "all jobs completed",
    });
    const byPid = new Set<number>();
    for (const id of ids) {
      const j = await store.jobs.get(id);
      assert.equal(j?.attempt, 1, `no job was interrupted by the roll: ${JSON.stringify(j?.errors)}`);
      byPid.add((j?.result as { pid: number } | undefined)?.pid ?? 0);
    }
    assert.ok(
      oldPids.some((p) => byPid.has(p)),
      "old workers completed jobs",
    );
    assert.ok(
      newPids.some((p) => byPid.has(p)),
      "new workers completed jobs",
    );
    assert.equal((await m.status()).restartsTotal, 0);
  });

  it("SIGHUP during a rolling restart: every worker ends on the code on disk at the last SIGHUP", async (t) => {
    const program = join(dir, "versioned.ts");
    // Written to a temporary file and renamed over the program, as a deploy would: a worker the
    // roll starts meanwhile must never read a half-written (or truncated, empty) program.
    const writeVersion = (version: string): void => {
      writeFileSync(
        `${program}.tmp`,
        `process.env.FIXTURE_VERSION = ${JSON.stringify(version)};\nawait import(${JSON.stringify(FIXTURE_WORKER)});\n`,
      );
      renameSync(`${program}.tmp`, program);
    };
    writeVersion("v1");
    const m = startMaster(t, "sighup-twice", { program, min: 3, max: 3, env: { FIXTURE_DIR: dir } });
    const v1 = await readyPids(m, 3);
    const versionOf = (pid: number): string | undefined => fixtureRecord(dir, pid)?.version;
    assert.deepEqual(v1.map(versionOf), ["v1", "v1", "v1"]);
    let lowest = Number.POSITIVE_INFINITY;
    const readyNow = async (): Promise<number[]> => {
      const st = await m.status().catch(() => null);
      const ready = st?.workers.filter((w) => w.state === "ready").map((w) => w.pid) ?? [];
      lowest = Math.min(lowest, ready.length);
      return ready;
    };
    writeVersion("v2");
    m.child.kill("SIGHUP");
    await waitFor(
      async () => (await readyNow()).some((pid) => !v1.includes(pid) && versionOf(pid) === "v2"),
      {
        timeoutMs: 15_000,
        intervalMs: 20,
        message: "one worker replaced by a v2 worker",
      },
    );
    writeVersion("v3");
    m.child.kill("SIGHUP");
    const final = await waitFor(
      async () => {
        const ready = await readyNow();
        const st = await m.status();
        return ready.length === 3 && st.workers.length === 3 && ready.every((pid) => versionOf(pid) === "v3")
          ? ready
          : null;
      },
      { timeoutMs: 30_000, intervalMs: 20, message: "all three workers on v3" },
    );
    assert.deepEqual(final.map(versionOf), ["v3", "v3", "v3"]);
    assert.ok(lowest >= 3, `ready workers dropped to ${lowest} during the rolls`);
    assert.equal((await m.status()).restartsTotal, 0, "rolling restarts are not failures");
  });

  it("SIGHUP while the master stops is ignored: it finishes the drain and exits 0", async (t) => {
    const m = startMaster(t, "sighup-stopping", {
      program: FIXTURE_WORKER,
      min: 1,
      max: 1,
      spare: false,
      env: { FIXTURE_MODE: "busy", FIXTURE_BUSY_MS: "1500", FIXTURE_DIR: dir },
    });
    const [pid] = await readyPids(m, 1);
    m.child.kill("SIGTERM");
    await waitFor(async () => (await m.status().catch(() => null))?.state === "stopping", {
      message: "the master stopping",
    });
    m.child.kill("SIGHUP");
    const [code, signal] = await m.exited;
    assert.equal(signal, null, "not ended by SIGHUP");
    assert.equal(code, 0);
    assert.equal(fixtureRecord(dir, pid!)?.finishedJobs, true, "the worker finished its drain");
    assert.equal((await m.status()).state, "stopped");
  });

  it("a crash loop makes the master give up: it exits 1 and its status says gave-up", async (t) => {
    const m = startMaster(t, "crashloop", {
      program: FIXTURE_WORKER,
      min: 2,
      max: 2,
      env: { FIXTURE_MODE: "crash" },
      restart: { maxRestarts: 3, period: 30_000, backoffBase: 20 },
    });
    const [code] = await m.exited;
    assert.equal(code, 1);
    assert.match(m.output(), /TEND_E_SUPERVISE_GAVE_UP/);
    assert.match(
      m.output(),
      /Giving up: workers were restarted 4 times within 30000 ms \(restart intensity allows 3\)/,
    );
    const status = await m.status();
    assert.equal(status.state, "gave-up");
    assert.equal(status.workers.length, 0);
    assert.ok(status.restartsInWindow >= 4);
  });
});
