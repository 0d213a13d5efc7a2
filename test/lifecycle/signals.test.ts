import assert from "node:assert/strict";
import { constants } from "node:os";
import { describe, it } from "node:test";
import { isTendError } from "../../src/errors/index.ts";
import { Manager, signalTask } from "../../src/lifecycle/index.ts";
import { DEFAULT_SIGNALS, signalExitCode } from "../../src/lifecycle/signals.ts";
import { deferred, idleTask } from "./helpers.ts";
import { captureLog } from "./log-capture.ts";

function exitRecorder() {
  const codes: number[] = [];
  const exited = deferred<number>();
  return {
    codes,
    exited: exited.promise,
    exit: (code: number) => {
      codes.push(code);
      exited.resolve(code);
    },
  };
}

describe("signalTask", () => {
  it("listens for SIGINT, SIGTERM and SIGQUIT by default", () => {
    assert.deepEqual([...DEFAULT_SIGNALS], ["SIGINT", "SIGTERM", "SIGQUIT"]);
    const before = DEFAULT_SIGNALS.map((s) => process.listenerCount(s));
    const task = signalTask();
    assert.deepEqual(
      DEFAULT_SIGNALS.map((s) => process.listenerCount(s)),
      before.map((n) => n + 1),
    );
    task.close();
    assert.deepEqual(
      DEFAULT_SIGNALS.map((s) => process.listenerCount(s)),
      before,
    );
  });

  it("a real SIGTERM stops the manager gracefully and calls onSignal", async () => {
    const events: string[] = [];
    const seen: string[] = [];
    const { exit, codes } = exitRecorder();
    const task = signalTask({ onSignal: (s) => seen.push(s), exit });
    try {
      const manager = new Manager({ log: captureLog().log });
      manager.run(task);
      manager.run(idleTask("worker", events));
      process.kill(process.pid, "SIGTERM");
      await manager.wait();
      assert.deepEqual(seen, ["SIGTERM"]);
      assert.equal(task.received, "SIGTERM");
      assert.equal(manager.shutdownReason, 'task "signals" stopped');
      assert.deepEqual(events, ["worker started", "worker stopped"]);
      assert.deepEqual(codes, []);
    } finally {
      task.close();
    }
  });

  it("captures a signal from the moment it is created, before the manager runs it", async () => {
    const seen: string[] = [];
    const task = signalTask({
      signals: ["SIGHUP"],
      onSignal: (s) => seen.push(s),
      exit: () => assert.fail("no exit expected"),
    });
    try {
      const got = deferred();
      process.once("SIGHUP", () => got.resolve());
      process.kill(process.pid, "SIGHUP");
      await got.promise; // the signal has been delivered (to our listener too)
      assert.equal(task.received, "SIGHUP");
      assert.deepEqual(seen, [], "onSignal runs when the task runs");
      const manager = new Manager({ log: captureLog().log });
      manager.run(task);
      manager.run(idleTask("worker"));
      await manager.wait();
      assert.equal(manager.shutdownReason, 'task "signals" stopped');
      assert.deepEqual(seen, ["SIGHUP"]);
    } finally {
      task.close();
    }
  });

  it("a second signal during shutdown exits at once with 128 + the signal number", async () => {
    const { exit, exited } = exitRecorder();
    const task = signalTask({ signals: ["SIGHUP", "SIGHUP"], exit });
    try {
      const manager = new Manager({ log: captureLog().log, shutdownTimeout: 5_000 });
      manager.run(task);
      const stuck = deferred();
      manager.run({ name: "stuck", run: () => stuck.promise });
      process.kill(process.pid, "SIGHUP");
      await new Promise<void>((resolve) => manager.onShutdownStart(() => resolve()));
      process.kill(process.pid, "SIGHUP");
      assert.equal(await exited, 128 + constants.signals.SIGHUP);
      stuck.resolve();
      await manager.wait();
    } finally {
      task.close();
    }
  });

  it("after shutdown began for another reason, a signal exits at once", async () => {
    const { exit, exited } = exitRecorder();
    const task = signalTask({ signals: ["SIGHUP"], exit });
    try {
      const manager = new Manager({ log: captureLog().log });
      manager.run(task);
      const stuck = deferred();
      manager.run({
        name: "stuck",
        run: () => stuck.promise,
      });
      const stopped = manager.stop("deploy");
      // The signal task has returned once the manager's task list no longer holds it.
      while (manager.tasks.includes("signals")) await new Promise((r) => setImmediate(r));
      process.kill(process.pid, "SIGHUP");
      assert.equal(await exited, signalExitCode("SIGHUP"));
      stuck.resolve();
      await stopped;
    } finally {
      task.close();
    }
  });

  it("signalExitCode follows the shell convention", () => {
    assert.equal(signalExitCode("SIGTERM"), 143);
    assert.equal(signalExitCode("SIGINT"), 130);
    assert.equal(signalExitCode("SIGQUIT"), 131);
  });

  for (const bad of ["SIGFOO", "TERM", "sigterm", "SIGKILL", "SIGSTOP", 15]) {
    it(`rejects the signal ${JSON.stringify(bad)} with TEND_E_UNKNOWN_SIGNAL`, () => {
      assert.throws(
        () => signalTask({ signals: [bad as string] }),
        (err: unknown) =>
          isTendError(err, "TEND_E_UNKNOWN_SIGNAL") && err.message.includes(JSON.stringify(bad)),
      );
    });
  }

  it("rejects an empty signal list and a non-function onSignal", () => {
    assert.throws(
      () => signalTask({ signals: [] }),
      (err: unknown) => isTendError(err, "TEND_E_UNKNOWN_SIGNAL"),
    );
    assert.throws(
      () => signalTask({ onSignal: "log" as never }),
      (err: unknown) => isTendError(err, "TEND_E_INVALID_LIFECYCLE_OPTION"),
    );
  });
});
