import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { ErrorCode } from "../../src/errors/catalogue.ts";
import { isTendError, type TendError } from "../../src/errors/tend-error.ts";
import { resolveOptions } from "../../src/supervise/options.ts";
import { createSupervisor } from "../../src/supervise/supervisor.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const program = join(import.meta.dirname, "fixtures", "worker.ts");
const code = (c: ErrorCode) => (err: unknown) => isTendError(err, c);

describe("resolveOptions", () => {
  it("fills defaults", () => {
    const o = resolveOptions({ program });
    assert.equal(o.min, 1);
    assert.equal(o.max, 1);
    assert.equal(o.program, program);
    assert.ok(o.statusFile?.endsWith("var/tend-supervisor.json"));
    assert.equal(resolveOptions({ program, min: 2 }).max, 2);
  });

  it("rejects bad counts with TEND_E_SUPERVISE_INVALID_COUNT", () => {
    for (const bad of [
      { min: 1.5 },
      { min: -1 },
      { max: 0 },
      { min: 3, max: 2 },
      { max: Number.NaN },
      { min: "2" as unknown as number },
    ]) {
      assert.throws(
        () => resolveOptions({ program, ...bad }),
        code("TEND_E_SUPERVISE_INVALID_COUNT"),
        JSON.stringify(bad),
      );
    }
  });

  it("rejects a missing program with TEND_E_SUPERVISE_PROGRAM_NOT_FOUND", () => {
    assert.throws(
      () => resolveOptions({ program: join(import.meta.dirname, "nope.ts") }),
      code("TEND_E_SUPERVISE_PROGRAM_NOT_FOUND"),
    );
    assert.throws(
      () => resolveOptions({ program: import.meta.dirname }),
      code("TEND_E_SUPERVISE_PROGRAM_NOT_FOUND"),
    );
    assert.throws(() => resolveOptions({ program: "" }), code("TEND_E_SUPERVISE_PROGRAM_NOT_FOUND"));
  });

  it("takes every duration as ms or a string like 30s", () => {
    const o = resolveOptions({
      program,
      hangTimeout: "15s",
      heartbeat: 500,
      killTimeout: "1m30s",
      restart: { period: "2m", backoffBase: "50ms" },
      scaling: { horizon: "5s", scaleDownCooldown: "1.5m" },
    });
    assert.equal(o.hangTimeoutMs, 15_000);
    assert.equal(o.heartbeatMs, 500);
    assert.equal(o.killTimeoutMs, 90_000);
    assert.equal(o.restart.periodMs, 120_000);
    assert.equal(o.restart.backoffBaseMs, 50);
    assert.equal(o.scaling.horizonSec, 5);
    assert.equal(o.scaling.scaleDownCooldownMs, 90_000);
  });

  it("rejects bad timeouts with TEND_E_SUPERVISE_INVALID_TIMEOUT", () => {
    for (const bad of [
      { hangTimeout: 0 },
      { killTimeout: -5 },
      { startTimeout: "soon" },
      { stallTimeout: "2d" },
      { heartbeat: 1_000, hangTimeout: 500 },
      { restart: { period: "0s" } },
      { scaling: { maxWait: "1 minute" } },
    ]) {
      assert.throws(
        () => resolveOptions({ program, ...bad }),
        code("TEND_E_SUPERVISE_INVALID_TIMEOUT"),
        JSON.stringify(bad),
      );
    }
  });

  it("rejects bad restart and scaling settings with TEND_E_SUPERVISE_INVALID_OPTION", () => {
    assert.throws(
      () => resolveOptions({ program, restart: { maxRestarts: -1 } }),
      code("TEND_E_SUPERVISE_INVALID_OPTION"),
    );
    assert.throws(
      () => resolveOptions({ program, restart: { jitter: 2 } }),
      code("TEND_E_SUPERVISE_INVALID_OPTION"),
    );
    assert.throws(
      () => resolveOptions({ program, scaling: { jobsPerWorker: 0 } }),
      code("TEND_E_SUPERVISE_INVALID_OPTION"),
    );
    assert.throws(
      () => resolveOptions({ program, restart: { backoffBase: "10s", backoffMax: "1s" } }),
      (err: Error) => code("TEND_E_SUPERVISE_INVALID_OPTION")(err) && /backoffBase/.test(err.message),
    );
    assert.throws(() => resolveOptions({ program, queues: [""] }), code("TEND_E_SUPERVISE_INVALID_OPTION"));
    assert.throws(
      () => resolveOptions({ program, onError: "report" as never }),
      (err: Error) => code("TEND_E_SUPERVISE_INVALID_OPTION")(err) && /onError/.test(err.message),
    );
  });
});

describe("resolveOptions: the workers' args, execArgv and env", () => {
  const rejected = (name: string, pattern: RegExp) => (err: unknown) =>
    code("TEND_E_SUPERVISE_INVALID_OPTION")(err) &&
    (err as TendError).details["name"] === name &&
    pattern.test((err as Error).message);

  it("refuses a string where a list of arguments belongs, instead of spreading it into characters", () => {
    assert.throws(
      () => resolveOptions({ program, args: "--verbose" as never }),
      rejected("args", /got "--verbose", expected an array of strings/),
    );
    assert.throws(
      () => resolveOptions({ program, execArgv: "--max-old-space-size=512" as never }),
      rejected("execArgv", /got "--max-old-space-size=512", expected an array of strings/),
    );
    assert.throws(
      () => resolveOptions({ program, args: ["--ok", 1, {}] as never }),
      rejected("args[1]", /got 1, expected a string/),
    );
  });

  it("refuses an env that is not an object of strings, naming the variable", () => {
    assert.throws(
      () => resolveOptions({ program, env: "A=1" as never }),
      rejected("env", /got "A=1", expected an object of environment variables with string values/),
    );
    assert.throws(
      () => resolveOptions({ program, env: { A: 1 } as never }),
      rejected("env.A", /got 1, expected a string .*write "1"/),
    );
    assert.throws(
      () => resolveOptions({ program, env: { A: "x", B: null } as never }),
      rejected("env.B", /got null, expected a string/),
    );
    assert.throws(() => resolveOptions({ program, env: ["A=1"] as never }), rejected("env", /got \["A=1"\]/));
  });

  it("takes arrays of strings and an object of strings, copied", () => {
    const args = ["--port", "8080"];
    const env = { LOG_LEVEL: "debug" };
    const o = resolveOptions({ program, args, execArgv: ["--max-old-space-size=512"], env });
    assert.deepEqual(o.args, ["--port", "8080"]);
    assert.deepEqual(o.execArgv, ["--max-old-space-size=512"]);
    assert.deepEqual(o.env, { LOG_LEVEL: "debug" });
    assert.notEqual(o.args, args);
    assert.notEqual(o.env, env);
    assert.deepEqual(resolveOptions({ program }).args, []);
  });
});

describe("the supervisor's logger", () => {
  it("is the `log` it is given: the master logs through it (part supervise)", async () => {
    const { log, lines } = captureLog();
    const supervisor = createSupervisor({ program, min: 0, max: 1, spare: false, statusFile: null, log });
    const stop = new AbortController();
    const running = supervisor.run(stop.signal);
    await waitFor(() => lines().some((l) => l["msg"] === "supervisor started"), {
      message: "the start line in the given logger",
    });
    stop.abort();
    await running;
    const own = lines().filter((l) => l["part"] === "supervise");
    assert.deepEqual(
      own.map((l) => l["msg"]),
      ["supervisor started", "stopping all workers gracefully", "supervisor stopped"],
    );
  });

  it("is also the store's logger when the supervisor opens its own store (part store)", async () => {
    const tmp = await makeTempDir("tend-sup-log-");
    try {
      const { log, lines } = captureLog();
      const database = `sqlite:${join(tmp.dir, "sup.db")}`;
      const supervisor = createSupervisor({
        program,
        min: 0,
        max: 1,
        spare: false,
        statusFile: null,
        database,
        log,
      });
      const stop = new AbortController();
      const running = supervisor.run(stop.signal);
      await waitFor(() => lines().some((l) => l["msg"] === "supervisor started"), {
        message: "the start line in the given logger",
      });
      stop.abort();
      await running;
      // A fresh file: opening it migrates, and the store says so through the supervisor's logger.
      assert.ok(
        lines().some((l) => l["part"] === "store" && l["msg"] === "applied SQLite migrations"),
        JSON.stringify(lines()),
      );
    } finally {
      await tmp.cleanup();
    }
  });
});
