import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../src/errors/index.ts";
import { Manager, ManagerError } from "../../src/lifecycle/index.ts";
import { aborted, deferred, idleTask } from "./helpers.ts";
import { captureLog } from "./log-capture.ts";

async function rejection(promise: Promise<unknown>): Promise<ManagerError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ManagerError);
    return err;
  }
  assert.fail("expected the promise to reject");
}

describe("Manager.cleanup", () => {
  it("runs cleanups after every task ended, last registered first, all of them even if one throws", async () => {
    const events: string[] = [];
    const manager = new Manager({ log: captureLog().log });
    manager.run(idleTask("a", events));
    manager.run({
      name: "b",
      async run(signal) {
        await aborted(signal);
        await new Promise((r) => setTimeout(r, 20));
        events.push("b stopped");
      },
    });
    manager.cleanup(() => {
      events.push("cleanup 1");
    });
    manager.cleanup(
      async () => {
        events.push("cleanup 2");
        throw new Error("close failed");
      },
      { name: "pool" },
    );
    manager.cleanup(async function closeServer() {
      events.push("cleanup 3");
    });
    const err = await rejection(manager.stop());
    assert.deepEqual(events, ["a started", "a stopped", "b stopped", "cleanup 3", "cleanup 2", "cleanup 1"]);
    assert.equal(err.code, "TEND_E_CLEANUP_FAILED");
    assert.equal(err.details["cleanup"], "pool");
    assert.equal((err.cause as Error).message, "close failed");
  });

  it("gives each cleanup its own timeout and signal; a hung one fails with TEND_E_CLEANUP_TIMEOUT and the next still runs", async () => {
    const manager = new Manager({ log: captureLog().log, cleanupTimeout: 5_000 });
    const events: string[] = [];
    let hungSignal: AbortSignal | undefined;
    manager.cleanup(() => {
      events.push("first registered");
    });
    manager.cleanup(
      (signal) => {
        hungSignal = signal;
        return new Promise(() => {});
      },
      { name: "hung", timeout: 30 },
    );
    const started = performance.now();
    const err = await rejection(manager.stop());
    assert.ok(
      performance.now() - started < 4_000,
      "the hung cleanup used its own 30 ms timeout, not the default",
    );
    assert.equal(err.code, "TEND_E_CLEANUP_TIMEOUT");
    assert.equal(err.details["cleanup"], "hung");
    assert.equal(hungSignal?.aborted, true);
    assert.deepEqual(events, ["first registered"]);
  });

  it("a manager stopped before any task ran still runs its cleanups", async () => {
    const manager = new Manager({ log: captureLog().log });
    const ran: string[] = [];
    manager.cleanup(async function closePool() {
      ran.push("closePool");
    });
    await manager.stop("configuration was invalid");
    assert.deepEqual(ran, ["closePool"]);
    assert.equal(manager.state, "stopped");
  });

  it("rejects a cleanup that is not a function, or a bad timeout", () => {
    const manager = new Manager({ log: captureLog().log });
    assert.throws(
      () => manager.cleanup("close" as never),
      (err: unknown) => isTendError(err, "TEND_E_INVALID_CLEANUP") && err.message.includes('"close"'),
    );
    assert.throws(
      () => manager.cleanup(() => {}, { timeout: 0 }),
      (err: unknown) => isTendError(err, "TEND_E_INVALID_TIMEOUT"),
    );
  });
});

describe("Manager readiness hooks", () => {
  it("onShutdownStart listeners run before the signal aborts, with the reason", async () => {
    const manager = new Manager({ log: captureLog().log });
    const seen: { reason: string; aborted: boolean; state: string }[] = [];
    manager.onShutdownStart((reason) => {
      seen.push({ reason, aborted: manager.signal.aborted, state: manager.state });
    });
    const removed = manager.onShutdownStart(() => assert.fail("removed listener was called"));
    removed();
    manager.run(idleTask("server"));
    await manager.stop("deploy");
    assert.deepEqual(seen, [{ reason: "deploy", aborted: false, state: "stopping" }]);
    let late: string | undefined;
    manager.onShutdownStart((reason) => {
      late = reason;
    });
    assert.equal(late, "deploy", "a listener added after shutdown began is called at once");
  });

  it("a throwing listener is recorded as TEND_E_HOOK_FAILED and shutdown goes on", async () => {
    const manager = new Manager({ log: captureLog().log });
    manager.onShutdownStart(() => {
      throw new Error("probe server gone");
    });
    manager.run(idleTask("server"));
    const err = await rejection(manager.stop());
    assert.equal(err.code, "TEND_E_HOOK_FAILED");
    assert.equal(manager.state, "stopped");
  });
});

describe("Manager logging", () => {
  it("logs task started, stopped with its duration, and failed with the error", async () => {
    const { log, lines } = captureLog();
    const manager = new Manager({ log });
    const fail = deferred();
    manager.run(idleTask("calm"));
    manager.run({ name: "flaky", run: () => fail.promise });
    fail.reject(new Error("lost connection"));
    await rejection(manager.wait());
    const logged = lines();
    const find = (msg: string, task: string) => logged.find((l) => l["msg"] === msg && l["task"] === task);
    assert.ok(find("task started", "calm"));
    assert.equal(find("task started", "flaky")?.["part"], "lifecycle");
    const stopped = find("task stopped", "calm");
    assert.equal(typeof stopped?.["durationMs"], "number");
    const failed = find("task failed", "flaky");
    assert.equal(failed?.["level"], 50);
    assert.equal((failed?.["err"] as { message?: string } | undefined)?.message, "lost connection");
    assert.ok(logged.some((l) => l["msg"] === "shutdown started" && l["reason"] === 'task "flaky" failed'));
  });
});

describe("crash capture handlers", () => {
  it("are installed while a manager runs and removed after", async () => {
    const before = [process.listenerCount("uncaughtException"), process.listenerCount("unhandledRejection")];
    const one = new Manager({ log: captureLog().log });
    const two = new Manager({ log: captureLog().log });
    one.run(idleTask("a"));
    two.run(idleTask("b"));
    assert.equal(process.listenerCount("uncaughtException"), (before[0] ?? 0) + 1, "one shared handler");
    assert.equal(process.listenerCount("unhandledRejection"), (before[1] ?? 0) + 1);
    await one.stop();
    assert.equal(process.listenerCount("uncaughtException"), (before[0] ?? 0) + 1, "still needed by two");
    await two.stop();
    assert.deepEqual(
      [process.listenerCount("uncaughtException"), process.listenerCount("unhandledRejection")],
      before,
    );
  });

  it("are not installed with captureCrashes: false", async () => {
    const before = process.listenerCount("uncaughtException");
    const manager = new Manager({ log: captureLog().log, captureCrashes: false });
    manager.run(idleTask("a"));
    assert.equal(process.listenerCount("uncaughtException"), before);
    await manager.stop();
  });
});
