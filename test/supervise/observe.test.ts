import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { isTendError } from "../../src/errors/tend-error.ts";
import { type NewJob, openStore } from "../../src/store/index.ts";
import type { WorkerCrashContext } from "../../src/supervise/index.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { HANG_FAST, nextReady, type Running, readyWorkers, runSupervisor, steady } from "./helpers.ts";

const running: Running[] = [];
const temps: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(running.map((r) => r.stop()));
  await Promise.all(temps.map((c) => c()));
});

function start(t: TestContext, ...args: Parameters<typeof runSupervisor>): Running {
  const r = runSupervisor(...args);
  running.push(r);
  t.after(() => r.stop());
  return r;
}

/** Records every message of the supervisor's channels until the test ends. */
function listen(t: TestContext): (name: string) => Array<Record<string, unknown>> {
  const seen: Array<{ name: string; message: Record<string, unknown> }> = [];
  for (const name of [
    "worker:spawned",
    "worker:ready",
    "worker:exited",
    "worker:hung",
    "worker:replaced",
    "scale",
  ]) {
    const channel = `tend:supervisor:${name}`;
    const listener = (message: unknown): void =>
      void seen.push({ name, message: message as Record<string, unknown> });
    subscribe(channel, listener);
    t.after(() => unsubscribe(channel, listener));
  }
  return (name) => seen.filter((s) => s.name === name).map((s) => s.message);
}

describe("the supervisor's error hook and diagnostics channels (real worker processes)", () => {
  it("a worker killed with SIGKILL goes to onError with its id, pid and signal; a throwing hook is logged and the master replaces the worker", async (t) => {
    const of = listen(t);
    const capture = captureLog();
    const reported: Array<{ error: unknown; context: WorkerCrashContext }> = [];
    const r = start(t, {
      min: 1,
      max: 1,
      log: capture.log,
      onError: (error, context) => {
        reported.push({ error, context });
        throw new Error("the hook itself fails");
      },
    });
    await steady(r.supervisor, 1);
    const victim = readyWorkers(r.supervisor)[0]!;
    const replacement = nextReady(r.supervisor, (w) => w.id !== victim.id);
    process.kill(victim.pid, "SIGKILL");
    const fresh = await replacement;

    assert.equal(reported.length, 1);
    const { error, context } = reported[0]!;
    assert.ok(isTendError(error, "TEND_E_SUPERVISE_WORKER_DIED"), String(error));
    assert.match((error as Error).message, /SIGKILL/);
    assert.equal(typeof context.uptimeMs, "number");
    assert.deepEqual(
      { ...context, uptimeMs: 0 },
      {
        part: "supervise",
        event: "worker.crashed",
        workerId: victim.id,
        pid: victim.pid,
        exitCode: null,
        signal: "SIGKILL",
        uptimeMs: 0,
      },
    );
    assert.ok(
      capture
        .lines()
        .some(
          (l) => l["msg"] === "the supervisor's onError hook threw; the crash it was given is in context",
        ),
      "the hook's own error is logged",
    );
    assert.equal(r.supervisor.status().state, "running");

    const spawned = of("worker:spawned");
    assert.deepEqual(
      spawned.map((m) => m["workerId"]),
      [victim.id, fresh.id],
    );
    assert.deepEqual(
      { ...spawned[1]!, fromSpare: true },
      {
        workerId: fresh.id,
        pid: fresh.pid,
        slot: victim.slot,
        fromSpare: true,
      },
    );
    const readied = of("worker:ready");
    assert.deepEqual(
      readied.map((m) => [m["workerId"], m["pid"], typeof m["readyMs"]]),
      [
        [victim.id, victim.pid, "number"],
        [fresh.id, fresh.pid, "number"],
      ],
    );
    const exited = of("worker:exited");
    assert.equal(exited.length, 1);
    assert.deepEqual(
      { ...exited[0]!, uptimeMs: 0 },
      {
        workerId: victim.id,
        pid: victim.pid,
        slot: victim.slot,
        exitCode: null,
        signal: "SIGKILL",
        planned: false,
        uptimeMs: 0,
        reason: null,
      },
    );
    assert.deepEqual(of("worker:replaced"), [
      {
        workerId: victim.id,
        pid: victim.pid,
        slot: victim.slot,
        reason: "exited with signal SIGKILL",
        blame: "worker",
      },
    ]);
    assert.deepEqual(of("worker:hung"), []);

    // A worker stopped by the master is no crash.
    await r.stop();
    assert.equal(reported.length, 1);
    assert.equal(of("worker:exited").at(-1)!["planned"], true);
  });

  it("a hung worker killed by the master is published on worker:hung and reported with its problem", async (t) => {
    const of = listen(t);
    const t0 = await makeTempDir("tend-supervise-observe-");
    temps.push(t0.cleanup);
    const flag = join(t0.dir, "hang.flag");
    const reported: WorkerCrashContext[] = [];
    const r = start(t, {
      min: 1,
      max: 1,
      ...HANG_FAST,
      env: { FIXTURE_MODE: "hang-once", FIXTURE_FLAG: flag, FIXTURE_DIR: t0.dir },
      onError: (_error, context) => void reported.push(context),
    });
    await steady(r.supervisor, 1);
    const first = readyWorkers(r.supervisor)[0]!;
    const fresh = nextReady(r.supervisor, (w) => w.id !== first.id);
    writeFileSync(flag, "");
    await fresh;
    const hung = of("worker:hung");
    assert.equal(hung.length, 1);
    assert.equal(hung[0]!["workerId"], first.id);
    assert.equal(hung[0]!["problem"], "hung");
    assert.match(String(hung[0]!["reason"]), /no heartbeat/);
    assert.equal(reported.length, 1);
    assert.equal(reported[0]!.workerId, first.id);
    assert.equal(reported[0]!.problem, "hung");
    assert.equal(reported[0]!.signal, "SIGKILL");
  });

  it("publishes each scaling decision on tend:supervisor:scale", async (t) => {
    const of = listen(t);
    const t0 = await makeTempDir("tend-supervise-observe-");
    temps.push(t0.cleanup);
    const database = `sqlite:${join(t0.dir, "tend.db")}`;
    const store = await openStore(database);
    t.after(() => store.close());
    const r = start(t, {
      program: join(import.meta.dirname, "fixtures", "app.ts"),
      store,
      database,
      min: 1,
      max: 2,
      scaling: { jobsPerWorker: 2, horizon: "1s" },
      env: { FIXTURE_CONCURRENCY: "2" },
    });
    await nextReady(r.supervisor);
    const job = (): NewJob => ({
      kind: "sleep",
      queue: "default",
      payload: JSON.stringify({ ms: 100 }),
      priority: 0,
      runAt: new Date(),
      maxAttempts: 5,
      uniqueKey: null,
      batchId: null,
      batchIndex: null,
    });
    await store.jobs.insert(Array.from({ length: 40 }, job));
    const up = await waitFor(() => of("scale").find((m) => m["to"] === 2), {
      message: "a scale-up decision on tend:supervisor:scale",
    });
    assert.equal(up["from"], 1);
    assert.equal(typeof up["reason"], "string");
  });
});
