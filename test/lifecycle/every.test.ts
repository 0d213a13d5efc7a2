import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ErrorCode, isTendError } from "../../src/errors/index.ts";
import { nextRunDelay } from "../../src/lifecycle/every.ts";
import { every, Manager, ManagerError } from "../../src/lifecycle/index.ts";
import { waitFor } from "../support/wait.ts";
import { aborted } from "./helpers.ts";
import { captureLog } from "./log-capture.ts";

describe("nextRunDelay", () => {
  it("waits what is left of the interval since the last start, plus jitter", () => {
    assert.equal(nextRunDelay(1000, 0, 0, 0.7), 1000);
    assert.equal(nextRunDelay(1000, 400, 0, 0.7), 600);
    assert.equal(nextRunDelay(1000, 400, 100, 0.5), 650);
    assert.equal(nextRunDelay(1000, 400, 100, 0), 600);
  });

  it("runs at once after a run longer than the interval (no catch-up burst)", () => {
    assert.equal(nextRunDelay(1000, 5000, 0, 0.3), 0);
  });
});

describe("every", () => {
  it("runs repeatedly and never overlaps, even when a run outlasts the interval", async () => {
    const manager = new Manager({ log: captureLog().log });
    let active = 0;
    let most = 0;
    let runs = 0;
    manager.run(
      every(5, async function slowChore() {
        active++;
        most = Math.max(most, active);
        await new Promise((r) => setTimeout(r, 15));
        active--;
        runs++;
      }),
    );
    await waitFor(() => runs >= 4, { message: "four runs" });
    await manager.stop();
    assert.equal(most, 1);
  });

  it("gives each run its own timeout signal; a run past it is logged as TEND_E_RUN_TIMEOUT and the task goes on", async () => {
    const { log, lines } = captureLog();
    const manager = new Manager({ log });
    const reasons: string[] = [];
    manager.run(
      every(
        1,
        async function sync(signal: AbortSignal) {
          await aborted(signal);
          reasons.push((signal.reason as Error).name);
        },
        { timeout: 20 },
      ),
    );
    await waitFor(() => reasons.length >= 2, { message: "two timed-out runs" });
    assert.equal(manager.signal.aborted, false);
    await manager.stop();
    assert.equal(reasons[0], "TimeoutError");
    const failed = lines().filter((l) => l["msg"]?.toString().startsWith("periodic run failed"));
    assert.ok(failed.length >= 2);
    assert.equal((failed[0]?.["err"] as { code?: string } | undefined)?.code, "TEND_E_RUN_TIMEOUT");
    assert.equal(failed[0]?.["task"], "sync");
  });

  it("a run's signal aborts when the task's signal aborts", async () => {
    const manager = new Manager({ log: captureLog().log });
    let runSignal: AbortSignal | undefined;
    manager.run(
      every(
        1,
        async (signal: AbortSignal) => {
          runSignal = signal;
          await aborted(signal);
          signal.throwIfAborted();
        },
        { timeout: "1h", name: "waiter" },
      ),
    );
    await waitFor(() => runSignal, { message: "a run" });
    await manager.stop(); // resolves: the abort during a run is a clean stop
    assert.equal(runSignal?.aborted, true);
  });

  it("logs a failing run and keeps going", async () => {
    const { log, lines } = captureLog();
    const manager = new Manager({ log });
    let runs = 0;
    manager.run(
      every(1, async function flaky() {
        runs++;
        throw new Error(`run ${runs} failed`);
      }),
    );
    await waitFor(() => runs >= 3, { message: "three runs" });
    await manager.stop();
    assert.ok(lines().filter((l) => l["msg"] === "periodic run failed: run 1 failed").length === 1);
  });

  it("with stopOnError, a failing run fails the task and the manager", async () => {
    const manager = new Manager({ log: captureLog().log });
    manager.run(
      every(
        1,
        async function strict() {
          throw new Error("invariant broken");
        },
        { stopOnError: true },
      ),
    );
    await assert.rejects(manager.wait(), (err: unknown) => {
      assert.ok(err instanceof ManagerError);
      assert.equal(err.code, "TEND_E_TASK_FAILED");
      assert.equal(err.details["task"], "strict");
      assert.equal((err.cause as Error).message, "invariant broken");
      return true;
    });
  });

  it("runs at start with immediate, and stops while waiting for the next interval", async () => {
    const manager = new Manager({ log: captureLog().log });
    let runs = 0;
    manager.run(
      every(
        "1h",
        async function hourly() {
          runs++;
        },
        { immediate: true, jitter: "10ms" },
      ),
    );
    await waitFor(() => runs === 1, { message: "the immediate run" });
    await manager.stop();
    assert.equal(runs, 1);
  });

  it("accepts duration strings", async () => {
    const task = every("250ms", async function chore() {}, { jitter: "1s", timeout: "5s" });
    assert.equal(task.name, "chore");
  });

  it("rejects bad input with TEND_E_ codes naming the value", () => {
    const fn = async function chore() {};
    const check = (make: () => unknown, code: ErrorCode, text: string) =>
      assert.throws(make, (err: unknown) => isTendError(err, code) && err.message.includes(text));
    check(() => every(0, fn), "TEND_E_INVALID_INTERVAL", "interval");
    check(() => every("soon", fn), "TEND_E_INVALID_INTERVAL", '"soon"');
    check(() => every(-10, fn), "TEND_E_INVALID_INTERVAL", "-10");
    check(() => every(10, "fn" as never), "TEND_E_INVALID_TASK", '"fn"');
    check(() => every(10, [async () => {}][0] as never), "TEND_E_INVALID_TASK", "name");
    check(() => every(10, fn, { jitter: "lots" }), "TEND_E_INVALID_INTERVAL", '"lots"');
    check(() => every(10, fn, { jitter: -1 }), "TEND_E_INVALID_INTERVAL", "jitter");
    check(() => every(10, fn, { timeout: 0 }), "TEND_E_INVALID_TIMEOUT", "timeout");
  });
});
