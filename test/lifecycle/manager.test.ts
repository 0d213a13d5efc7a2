import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ErrorCode, isTendError, TendError } from "../../src/errors/index.ts";
import { currentTask } from "../../src/lifecycle/context.ts";
import { Manager, ManagerError } from "../../src/lifecycle/index.ts";
import { aborted, deferred, idleTask } from "./helpers.ts";
import { captureLog } from "./log-capture.ts";

function quiet(options: ConstructorParameters<typeof Manager>[0] = {}): Manager {
  return new Manager({ log: captureLog().log, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<ManagerError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ManagerError, `expected a ManagerError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the promise to reject");
}

describe("Manager.run", () => {
  it("aborts the shared signal when a task returns, and the others shut down", async () => {
    const events: string[] = [];
    const manager = quiet();
    const finish = deferred();
    assert.equal(manager.state, "idle");
    manager.run(idleTask("a", events));
    manager.run(idleTask("b", events));
    manager.run({ name: "short", run: () => finish.promise });
    assert.equal(manager.state, "running");
    assert.equal(manager.signal.aborted, false);
    assert.deepEqual(manager.tasks, ["a", "b", "short"]);
    finish.resolve();
    await manager.wait();
    assert.equal(manager.signal.aborted, true);
    assert.equal(manager.state, "stopped");
    assert.equal(manager.shutdownReason, 'task "short" stopped');
    assert.deepEqual(events, ["a started", "b started", "a stopped", "b stopped"]);
    assert.deepEqual(manager.tasks, []);
  });

  it("aborts when a task rejects, and wait() rejects with TEND_E_TASK_FAILED naming it", async () => {
    const manager = quiet();
    const events: string[] = [];
    const boom = new Error("database gone");
    manager.run(idleTask("other", events));
    manager.run(async function worker() {
      throw boom;
    });
    const err = await rejection(manager.wait());
    assert.equal(err.code, "TEND_E_TASK_FAILED");
    assert.equal(err.cause, boom);
    assert.equal(err.details["task"], "worker");
    assert.equal(err.details["kind"], "rejected");
    assert.match(err.message, /Task "worker" failed: database gone/);
    assert.deepEqual(events, ["other started", "other stopped"]);
  });

  it("catches a task that throws synchronously, and still accepts the next registration", async () => {
    const manager = quiet();
    manager.run({
      name: "sync",
      run() {
        throw new TypeError("bad config");
      },
    });
    manager.run(idleTask("next"));
    const err = await rejection(manager.wait());
    assert.equal(err.code, "TEND_E_TASK_FAILED");
    assert.equal(err.details["kind"], "threw");
    assert.equal(err.details["task"], "sync");
    assert.ok(err.cause instanceof TypeError);
  });

  it("accepts a plain named async function as a task", async () => {
    const manager = quiet();
    let got: AbortSignal | undefined;
    manager.run(async function poller(signal: AbortSignal) {
      got = signal;
    });
    await manager.wait();
    assert.equal(got, manager.signal);
  });

  it("runs each task in its own context: currentTask() names it, even in callbacks it scheduled", async () => {
    const manager = quiet();
    const seen: (string | undefined)[] = [];
    manager.run(async function alpha() {
      seen.push(currentTask()?.task);
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          seen.push(currentTask()?.task);
          resolve();
        }, 1),
      );
    });
    await manager.wait();
    assert.deepEqual(seen, ["alpha", "alpha"]);
    assert.equal(currentTask(), undefined);
  });

  it("treats an AbortError thrown after the abort as a clean stop", async () => {
    const manager = quiet();
    manager.run({
      name: "throwIfAborted",
      async run(signal) {
        await aborted(signal);
        signal.throwIfAborted();
      },
    });
    manager.run({
      name: "domAbort",
      async run(signal) {
        await aborted(signal);
        throw new DOMException("stopped", "AbortError");
      },
    });
    await manager.stop();
  });

  it("treats an AbortError thrown before any abort as a failure", async () => {
    const manager = quiet();
    manager.run(idleTask("idle"));
    manager.run(async function early() {
      throw new DOMException("own timeout", "AbortError");
    });
    const err = await rejection(manager.wait());
    assert.equal(err.details["task"], "early");
  });

  it("never masks later errors: other tasks' and cleanups' failures are attached in order", async () => {
    const manager = quiet();
    const first = new Error("first");
    manager.run({
      name: "late",
      async run(signal) {
        await aborted(signal);
        throw new Error("failed while draining");
      },
    });
    manager.run(async function early() {
      throw first;
    });
    manager.cleanup(() => {
      throw new Error("cleanup broke");
    });
    const err = await rejection(manager.wait());
    assert.equal(err.code, "TEND_E_TASK_FAILED");
    assert.equal(err.cause, first);
    assert.deepEqual(
      err.errors.map((e) => [e.code, e.details["task"] ?? e.details["cleanup"]]),
      [
        ["TEND_E_TASK_FAILED", "early"],
        ["TEND_E_TASK_FAILED", "late"],
        ["TEND_E_CLEANUP_FAILED", "cleanup #1"],
      ],
    );
    assert.match(err.message, /and 2 more/);
  });

  it("rejects bad input at once with a TEND_E_ code naming the value", () => {
    const manager = quiet();
    const cases: [unknown, ErrorCode][] = [
      [undefined, "TEND_E_INVALID_TASK"],
      [null, "TEND_E_INVALID_TASK"],
      [42, "TEND_E_INVALID_TASK"],
      ["task", "TEND_E_INVALID_TASK"],
      [{ name: "x" }, "TEND_E_INVALID_TASK"],
      [{ name: "", run: async () => {} }, "TEND_E_INVALID_TASK"],
      [{ run: async () => {} }, "TEND_E_INVALID_TASK"],
      [{ name: 7, run: async () => {} }, "TEND_E_INVALID_TASK"],
    ];
    for (const [value, code] of cases) {
      assert.throws(
        () => manager.run(value as never),
        (err: unknown) => isTendError(err, code) && err.message.includes("Invalid task"),
        `for ${String(value)}`,
      );
    }
    // An anonymous function has no name to log it by.
    const anonymous = [async (_signal: AbortSignal) => {}][0];
    assert.throws(
      () => manager.run(anonymous as never),
      (err: unknown) => isTendError(err, "TEND_E_INVALID_TASK") && err.message.includes("function"),
    );
    assert.equal(manager.state, "idle");
  });

  it("rejects a duplicate name of a running task, but allows it once that task ended", async () => {
    const manager = quiet();
    manager.run(idleTask("server"));
    assert.throws(
      () => manager.runEphemeral(idleTask("server")),
      (err: unknown) => isTendError(err, "TEND_E_DUPLICATE_TASK") && err.message.includes('"server"'),
    );
    const done = deferred();
    manager.runEphemeral({ name: "warm", run: () => done.promise });
    done.resolve();
    // Let the ephemeral task's end be processed.
    while (manager.tasks.includes("warm")) await new Promise((r) => setImmediate(r));
    manager.runEphemeral(async function warm() {});
    await manager.stop();
  });

  it("rejects invalid options with TEND_E_INVALID_TIMEOUT", () => {
    for (const shutdownTimeout of [0, -1, "0s", "never", Number.NaN]) {
      assert.throws(
        () => new Manager({ shutdownTimeout }),
        (err: unknown) =>
          isTendError(err, "TEND_E_INVALID_TIMEOUT") && err.message.includes("shutdownTimeout"),
      );
    }
    assert.throws(
      () => new Manager({ cleanupTimeout: -5 }),
      (err: unknown) => isTendError(err, "TEND_E_INVALID_TIMEOUT"),
    );
  });
});

describe("Manager.runEphemeral", () => {
  it("a clean finish does not stop the others", async () => {
    const manager = quiet();
    manager.run(idleTask("server"));
    const done = deferred();
    const ran = deferred();
    manager.runEphemeral({
      name: "migrate",
      async run() {
        await done.promise;
        ran.resolve();
      },
    });
    done.resolve();
    await ran.promise;
    while (manager.tasks.includes("migrate")) await new Promise((r) => setImmediate(r));
    assert.equal(manager.signal.aborted, false);
    assert.equal(manager.state, "running");
    assert.deepEqual(manager.tasks, ["server"]);
    await manager.stop();
  });

  it("an error stops the others", async () => {
    const manager = quiet();
    const events: string[] = [];
    manager.run(idleTask("server", events));
    manager.runEphemeral(async function migrate() {
      throw new Error("migration 7 failed");
    });
    const err = await rejection(manager.wait());
    assert.equal(err.details["task"], "migrate");
    assert.deepEqual(events, ["server started", "server stopped"]);
  });

  it("a manager of ephemeral tasks only finishes when they all have and wait() was called", async () => {
    const manager = quiet();
    manager.runEphemeral(async function one() {});
    manager.runEphemeral(async function two() {});
    await manager.wait();
    assert.equal(manager.state, "stopped");
    assert.equal(manager.shutdownReason, "all tasks finished");
  });
});

describe("Manager.wait and stop", () => {
  it("wait() is safe to call many times and concurrently: the same outcome each time", async () => {
    const manager = quiet();
    const fail = deferred();
    manager.run({ name: "x", run: () => fail.promise });
    const waits = [manager.wait(), manager.wait(), manager.wait()];
    fail.reject(new Error("x broke"));
    const errors = await Promise.all(waits.map((w) => rejection(w)));
    const again = await rejection(manager.wait());
    for (const err of [...errors, again]) assert.equal(err, errors[0]);
  });

  it("wait() with no tasks finishes the manager at once", async () => {
    const manager = quiet();
    await manager.wait();
    assert.equal(manager.state, "stopped");
    assert.equal(manager.signal.aborted, true);
  });

  it("stop() aborts and waits; run() afterwards throws TEND_E_MANAGER_STOPPED", async () => {
    const manager = quiet();
    const events: string[] = [];
    manager.run(idleTask("a", events));
    await manager.stop("test over");
    assert.equal(manager.shutdownReason, "test over");
    assert.deepEqual(events, ["a started", "a stopped"]);
    assert.throws(
      () => manager.run(idleTask("b")),
      (err: unknown) =>
        err instanceof TendError && err.code === "TEND_E_MANAGER_STOPPED" && err.message.includes('"b"'),
    );
    assert.throws(
      () => manager.cleanup(() => {}),
      (err: unknown) => isTendError(err, "TEND_E_MANAGER_STOPPED"),
    );
    await manager.stop(); // a second stop is harmless
  });

  it("run() while stopping throws TEND_E_MANAGER_STOPPED, cleanup() is still accepted", async () => {
    const manager = quiet();
    const release = deferred();
    manager.run({
      name: "slow",
      async run(signal) {
        await aborted(signal);
        await release.promise;
      },
    });
    const stopped = manager.stop();
    assert.equal(manager.state, "stopping");
    assert.throws(
      () => manager.run(idleTask("late")),
      (err: unknown) => isTendError(err, "TEND_E_MANAGER_STOPPED"),
    );
    let cleaned = false;
    manager.cleanup(() => {
      cleaned = true;
    });
    release.resolve();
    await stopped;
    assert.equal(cleaned, true);
  });
});

describe("Manager shutdown timeout", () => {
  it("fails wait() with TEND_E_SHUTDOWN_TIMEOUT naming the tasks still running, and still runs cleanups", async () => {
    const manager = quiet({ shutdownTimeout: 50 });
    manager.run(idleTask("polite"));
    manager.run({ name: "stubborn", run: () => new Promise(() => {}) });
    let cleaned = false;
    manager.cleanup(() => {
      cleaned = true;
    });
    const err = await rejection(manager.stop());
    assert.equal(err.code, "TEND_E_SHUTDOWN_TIMEOUT");
    assert.deepEqual(err.details["tasks"], ["stubborn"]);
    assert.equal(err.details["timeoutMs"], 50);
    assert.match(err.message, /"stubborn"/);
    assert.equal(cleaned, true);
    assert.equal(manager.state, "stopped");
  });
});
