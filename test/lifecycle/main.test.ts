import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError, TendError } from "../../src/errors/index.ts";
import {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_SHUTDOWN_TIMEOUT,
  Manager,
  ManagerError,
  main,
  signalTask,
} from "../../src/lifecycle/index.ts";
import { exitCodeFor } from "../../src/lifecycle/main.ts";
import { aborted } from "./helpers.ts";
import { captureLog } from "./log-capture.ts";

describe("exitCodeFor", () => {
  it("maps outcomes to 0, 1 and 70", () => {
    const failed = new TendError("TEND_E_TASK_FAILED", "x");
    const timeout = new TendError("TEND_E_SHUTDOWN_TIMEOUT", "y");
    assert.equal(exitCodeFor(undefined), EXIT_OK);
    assert.equal(exitCodeFor(new ManagerError([failed])), EXIT_FAILURE);
    assert.equal(exitCodeFor(new ManagerError([timeout])), EXIT_SHUTDOWN_TIMEOUT);
    assert.equal(exitCodeFor(new ManagerError([failed, timeout])), EXIT_SHUTDOWN_TIMEOUT, "hung tasks win");
    assert.equal(exitCodeFor(new Error("setup")), EXIT_FAILURE);
    assert.deepEqual([EXIT_OK, EXIT_FAILURE, EXIT_SHUTDOWN_TIMEOUT], [0, 1, 70]);
  });
});

describe("main", () => {
  it("exits 0 and logs 'clean shutdown' when the tasks stop cleanly", async () => {
    const { log, lines } = captureLog();
    const codes: number[] = [];
    const code = await main(
      (manager, base) => {
        assert.equal(base, log, "setup gets the program's logger");
        manager.run(async function job() {});
      },
      { log, signals: false, exit: (c) => codes.push(c) },
    );
    assert.equal(code, 0);
    assert.deepEqual(codes, [0]);
    assert.ok(lines().some((l) => l["msg"] === "clean shutdown"));
  });

  it("exits 1 when a task fails", async () => {
    const { log, lines } = captureLog();
    const codes: number[] = [];
    await main(
      (manager) => {
        manager.run(async function job() {
          throw new Error("broken");
        });
      },
      { log, signals: false, exit: (c) => codes.push(c) },
    );
    assert.deepEqual(codes, [1]);
    const line = lines().find((l) => l["msg"] === "stopped with errors");
    assert.equal((line?.["err"] as { code?: string } | undefined)?.code, "TEND_E_TASK_FAILED");
  });

  it("exits 70 on a shutdown timeout", async () => {
    const codes: number[] = [];
    await main(
      (manager) => {
        manager.run(async function quitter() {});
        manager.run({ name: "stubborn", run: () => new Promise(() => {}) });
      },
      { log: captureLog().log, signals: false, shutdownTimeout: 20, exit: (c) => codes.push(c) },
    );
    assert.deepEqual(codes, [70]);
  });

  it("exits 1 when setup throws, after stopping what it had started and running its cleanups", async () => {
    const codes: number[] = [];
    const events: string[] = [];
    await main(
      (manager) => {
        manager.run(async function server(signal: AbortSignal) {
          await aborted(signal);
          events.push("server stopped");
        });
        manager.cleanup(() => {
          events.push("cleanup");
        });
        throw new Error("missing DATABASE_URL");
      },
      { log: captureLog().log, signals: false, exit: (c) => codes.push(c) },
    );
    assert.deepEqual(codes, [1]);
    assert.deepEqual(events, ["server stopped", "cleanup"]);
  });

  it("exits 70 when setup throws and the shutdown it starts times out, logging both", async () => {
    const codes: number[] = [];
    const { log, lines } = captureLog();
    await main(
      (manager) => {
        manager.run({ name: "stubborn", run: () => new Promise(() => {}) });
        throw new Error("missing DATABASE_URL");
      },
      { log, signals: false, shutdownTimeout: 20, exit: (c) => codes.push(c) },
    );
    assert.deepEqual(codes, [70]);
    const line = lines().find((l) => l["msg"] === "shutdown timed out" && l["err"] !== undefined);
    assert.match(
      String((line?.["err"] as { message?: string } | undefined)?.message),
      /missing DATABASE_URL/,
    );
    assert.ok(line?.["stopErr"] !== undefined, "the shutdown's own failure is logged too");
  });

  it("a ready Manager that already runs a signal task, or already stopped, is drained before exiting", async () => {
    for (const already of ["signal task", "failed task"] as const) {
      const manager = new Manager({ log: captureLog().log });
      const events: string[] = [];
      manager.run(async function server(signal: AbortSignal) {
        await aborted(signal);
        events.push("server drained");
      });
      manager.cleanup(() => {
        events.push("cleanup ran");
      });
      if (already === "signal task") {
        manager.run(signalTask({ signals: ["SIGHUP"], exit: () => {} }));
        manager.run(async function quits() {});
      } else {
        manager.run(async function fails() {
          throw new Error("broken");
        });
        await new Promise<void>((resolve) => manager.onShutdownStart(() => resolve()));
      }
      const codes: number[] = [];
      await main(manager, { signals: ["SIGHUP"], exit: (c) => codes.push(c) });
      assert.deepEqual(events, ["server drained", "cleanup ran"], already);
      assert.deepEqual(codes, [already === "signal task" ? 0 : 1], already);
    }
  });

  it("a signal during a slow setup is a clean shutdown, not a setup failure", async () => {
    const codes: number[] = [];
    const { log, lines } = captureLog();
    let cutShort = false;
    await main(
      async (manager) => {
        const stopping = new Promise<void>((resolve) => manager.onShutdownStart(() => resolve()));
        process.kill(process.pid, "SIGHUP"); // arrives while "connecting to the database"
        await stopping;
        try {
          manager.run(async function lateWorker() {});
        } catch (err) {
          cutShort = isTendError(err, "TEND_E_MANAGER_STOPPED");
          throw err;
        }
      },
      { log, signals: ["SIGHUP"], exit: (c) => codes.push(c) },
    );
    assert.equal(cutShort, true);
    assert.deepEqual(codes, [0]);
    assert.ok(lines().some((l) => l["msg"] === "clean shutdown"));
  });

  it("a setup that does not return within the shutdown timeout after a signal ends the program with exit 70", async () => {
    const codes: number[] = [];
    const { log, lines } = captureLog();
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const started = Date.now();
    await main(
      async (manager) => {
        const stopping = new Promise<void>((resolve) => manager.onShutdownStart(() => resolve()));
        process.kill(process.pid, "SIGHUP");
        await stopping;
        await stuck; // a slow setup step that ignores the shutdown
      },
      { log, signals: ["SIGHUP"], shutdownTimeout: 200, exit: (c) => codes.push(c) },
    );
    const took = Date.now() - started;
    release();
    assert.deepEqual(codes, [70]);
    assert.ok(took < 5_000, `ended ${took} ms after the signal, bounded by the shutdown timeout`);
    assert.ok(lines().some((l) => /setup did not return within the shutdown timeout/.test(String(l["msg"]))));
  });

  it("accepts a ready Manager", async () => {
    const manager = new Manager({ log: captureLog().log });
    manager.run(async function once() {});
    const codes: number[] = [];
    const before = process.listenerCount("SIGHUP");
    assert.equal(await main(manager, { signals: ["SIGHUP"], exit: (c) => codes.push(c) }), 0);
    assert.deepEqual(codes, [0]);
    assert.equal(process.listenerCount("SIGHUP"), before, "main removed its signal listeners");
  });

  it("rejects something that is neither a Manager nor a function", async () => {
    await assert.rejects(main("app" as never, { signals: false, exit: () => {} }), (err: unknown) =>
      isTendError(err, "TEND_E_INVALID_LIFECYCLE_OPTION"),
    );
  });
});
