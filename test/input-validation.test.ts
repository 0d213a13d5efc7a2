import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createApp } from "../src/app.ts";
import { clearParkedKeys, listParkedKeys } from "../src/converge/parked.ts";
import { createConverger } from "../src/converge/runner.ts";
import { isTerminalError } from "../src/converge/terminal-error.ts";
import type { ErrorCode } from "../src/errors/catalogue.ts";
import { describeValue, isTendError } from "../src/errors/tend-error.ts";
import { rejectUnknownKeys } from "../src/errors/unknown-option.ts";
import { checkObject } from "../src/errors/validate.ts";
import { retryDelay } from "../src/jobs/backoff.ts";
import { parseDuration } from "../src/lifecycle/duration.ts";
import { Limiter } from "../src/lifecycle/limiter.ts";
import { exitCodeFor, main } from "../src/lifecycle/main.ts";
import { Manager } from "../src/lifecycle/manager.ts";
import { signalTask } from "../src/lifecycle/signals.ts";
import { flushLogger } from "../src/log/flush.ts";
import { createLogger } from "../src/log/logger.ts";
import { openStore } from "../src/store/open.ts";
import { callerClient } from "../src/store/postgres/caller-tx.ts";
import { supervise } from "../src/supervise/run.ts";
import { createSupervisor } from "../src/supervise/supervisor.ts";
import { readStatusFile } from "../src/supervise/status.ts";
import { postgresUrl, requirePostgres } from "./support/postgres.ts";
import { assertConverged, convergeOnce } from "../src/testing.ts";
import { makeTempDir } from "./support/tmp.ts";

/**
 * Public entry points given a value of the wrong type or out of range throw a TendError with the
 * code of their part, naming the value: never a raw TypeError or RangeError, never a silent
 * acceptance that fails later.
 */

const program = join(import.meta.dirname, "supervise", "fixtures", "worker.ts");
const definition = { name: "archive", find: () => [], converge: () => undefined };

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** Asserts `err` is a TendError with `code` (and, when given, a message containing `text`). */
function tend(code: ErrorCode, text?: string) {
  return (err: unknown): boolean => {
    assert.ok(isTendError(err, code), `expected ${code}, got ${String(err)}`);
    if (text !== undefined) assert.ok(err.message.includes(text), err.message);
    return true;
  };
}

const tmp = await makeTempDir("tend-input-");
after(() => tmp.cleanup());
const database = `sqlite:${join(tmp.dir, "input.db")}`;

describe("input validation: raw TypeErrors at public entry points (gap 1)", () => {
  it("createApp refuses a log that is not a logger", () => {
    for (const bad of [{}, 5, "", [], Symbol("s"), { child: () => undefined }]) {
      assert.throws(
        () => createApp({ log: bad as never }),
        tend("TEND_E_INVALID_APP_OPTIONS", "Invalid log"),
      );
    }
  });

  it("createConverger refuses missing or bad dependencies", () => {
    assert.throws(
      () => (createConverger as (d: unknown) => unknown)(definition),
      tend("TEND_E_CONVERGER_INVALID_OPTION", "dependencies of converger"),
    );
    assert.throws(
      () => createConverger(definition, {} as never),
      tend("TEND_E_CONVERGER_INVALID_OPTION", "store"),
    );
    assert.throws(
      () => createConverger(definition, { store: {}, log: 1 } as never),
      tend("TEND_E_CONVERGER_INVALID_OPTION", "log"),
    );
  });

  it("createLogger refuses settings that are not an object and an unknown level", () => {
    assert.throws(() => createLogger(null as never), tend("TEND_E_INVALID_LOG_OPTIONS"));
    assert.throws(() => createLogger({ level: "abc" }), tend("TEND_E_INVALID_LOG_OPTIONS", '"abc"'));
    assert.throws(
      () => createLogger({ level: Infinity as never }),
      tend("TEND_E_INVALID_LOG_OPTIONS", "Infinity"),
    );
    assert.equal(typeof createLogger({ level: "silent" }).info, "function");
  });

  it("signalTask refuses null options", () => {
    assert.throws(() => signalTask(null as never), tend("TEND_E_INVALID_LIFECYCLE_OPTION"));
  });

  it("app.jobs.list refuses a null filter and app.cron a symbol kind", async () => {
    const app = createApp({ database });
    try {
      await assert.rejects(app.jobs.list(null as never), tend("TEND_E_INVALID_STORE_ARGUMENT"));
      assert.throws(() => app.cron("* * * * *", Symbol("s") as never), tend("TEND_E_INVALID_JOB_KIND"));
    } finally {
      await app.close();
    }
  });

  it("readStatusFile refuses a path that is not a string", async () => {
    await assert.rejects(readStatusFile(Symbol("s") as never), tend("TEND_E_SUPERVISE_INVALID_OPTION"));
  });

  it("retryDelay refuses an attempt that is not a finite number", () => {
    for (const bad of [Symbol("s"), 10n, NaN, Infinity, "3", revokedProxy()]) {
      assert.throws(() => retryDelay(bad as never), tend("TEND_E_INVALID_JOB_OPTIONS", "attempt"));
    }
    assert.throws(() => retryDelay(1, null as never), tend("TEND_E_INVALID_JOB_OPTIONS", "policy"));
    assert.equal(
      retryDelay(1, undefined, () => 0.5),
      1000,
    );
  });
});

describe("input validation: http.host (gap 2)", () => {
  it("createApp refuses a host with NUL or another control character", () => {
    for (const host of ["a\0b", "a\x1bb", "a\x7fb"]) {
      assert.throws(
        () => createApp({ database, http: { port: 0, host } }),
        tend("TEND_E_INVALID_HTTP_OPTIONS", "http.host"),
      );
    }
  });
});

describe("input validation: revoked proxies (gap 3)", () => {
  it("describeValue never throws", () => {
    assert.equal(describeValue(revokedProxy()), "a revoked Proxy");
    assert.equal(describeValue(new Date(NaN)), "an invalid Date");
    assert.equal(describeValue(NaN), "NaN");
  });

  it("checkObject and createApp refuse a revoked proxy with the caller's code", () => {
    assert.throws(
      () => checkObject("TEND_E_INVALID_HTTP_OPTIONS", "http options", revokedProxy()),
      tend("TEND_E_INVALID_HTTP_OPTIONS", "a revoked Proxy"),
    );
    assert.throws(() => createApp(revokedProxy() as never), tend("TEND_E_INVALID_APP_OPTIONS"));
    assert.throws(() => createApp({ jobs: revokedProxy() as never }), tend("TEND_E_INVALID_JOB_OPTIONS"));
    assert.throws(() => createApp({ http: revokedProxy() as never }), tend("TEND_E_INVALID_HTTP_OPTIONS"));
  });

  it("rejectUnknownKeys throws the caller's code for options whose keys cannot be read", () => {
    const keys = new Set(["a"]);
    assert.throws(
      () => rejectUnknownKeys("test options", revokedProxy(), keys, "TEND_E_INVALID_APP_OPTIONS"),
      tend("TEND_E_INVALID_APP_OPTIONS", "test options"),
    );
    const throwing = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("ownKeys boom");
        },
      },
    );
    assert.throws(
      () => rejectUnknownKeys("test options", throwing, keys, "TEND_E_INVALID_JOB_OPTIONS"),
      tend("TEND_E_INVALID_JOB_OPTIONS"),
    );
    assert.throws(() => rejectUnknownKeys("test options", throwing, keys), tend("TEND_E_UNREADABLE_OPTIONS"));
    assert.throws(() => createApp({ jobs: throwing as never }), tend("TEND_E_INVALID_JOB_OPTIONS"));
  });
});

describe("input validation: options of the wrong type accepted silently (gap 4)", () => {
  it("createApp refuses jobs.queues, jobs and store that are not objects", () => {
    assert.throws(
      () => createApp({ jobs: { queues: 5 as never } }),
      tend("TEND_E_INVALID_JOB_OPTIONS", "queues"),
    );
    assert.throws(() => createApp({ jobs: NaN as never }), tend("TEND_E_INVALID_JOB_OPTIONS", "jobs"));
    assert.throws(() => createApp({ store: "" as never }), tend("TEND_E_INVALID_APP_OPTIONS", "store"));
  });

  it("createSupervisor refuses restart and scaling that are not objects", () => {
    assert.throws(
      () => createSupervisor({ program, restart: "fast" as never }),
      tend("TEND_E_SUPERVISE_INVALID_OPTION", "restart"),
    );
    assert.throws(
      () => createSupervisor({ program, scaling: 7 as never }),
      tend("TEND_E_SUPERVISE_INVALID_OPTION", "scaling"),
    );
  });

  it("jobs.retention is at most a hundred years", () => {
    assert.throws(
      () => createApp({ jobs: { retention: 1e300 } }),
      tend("TEND_E_INVALID_JOB_OPTIONS", "retention"),
    );
    assert.throws(
      () => createApp({ jobs: { retention: "36501d" } }),
      tend("TEND_E_INVALID_JOB_OPTIONS", "36500d"),
    );
  });

  it("a prune --older-than past a hundred years names the flag, its value and the bound", async () => {
    const { pruneCutoff } = await import("../src/cli/commands/prune.ts");
    assert.throws(
      () => pruneCutoff("99999999999999999d", "--older-than"),
      tend(
        "TEND_E_INVALID_DURATION",
        '--older-than: got "99999999999999999d", expected a non-negative duration up to 36500d',
      ),
    );
    assert.equal(
      pruneCutoff("7d", "--older-than", Date.parse("2025-01-08T00:00:00Z")).toISOString(),
      "2025-01-01T00:00:00.000Z",
    );
  });
});

describe("input validation: PostgreSQL URLs (gap 5)", () => {
  const cases: Array<[string, string]> = [
    ["postgres://postgres@127.0.0.1:99999/x", "a port from 1 to 65535"],
    ["postgres://postgres@127.0.0.1:5432/x?port=0", "a port from 1 to 65535"],
    ["postgres://postgres:hunter2@[::1/x", "a URL that parses"],
    ["postgres://postgres@127.0.0.1:5432/x?sslmode=bogus", "sslmode one of disable"],
  ];
  for (const [url, expected] of cases) {
    it(`openStore refuses ${url} before connecting`, async () => {
      await assert.rejects(openStore(url), (err: unknown) => {
        tend("TEND_E_INVALID_DATABASE_URL", expected)(err);
        assert.ok(!(err as Error).message.includes("hunter2"), "the password must not be shown");
        return true;
      });
    });
  }

  it("a server refusal of the URL's options parameter is TEND_E_INVALID_POSTGRES_OPTION", async (t) => {
    if (!(await requirePostgres(t))) return;
    const url = `${postgresUrl()}${postgresUrl().includes("?") ? "&" : "?"}options=-c%20statement_timeout%3Dabc`;
    await assert.rejects(
      openStore(url, { migrate: "verify" }),
      tend("TEND_E_INVALID_POSTGRES_OPTION", "statement_timeout"),
    );
  });
});

describe("input validation: getters and Proxy traps that throw (gap 6)", () => {
  /** An object whose `key` getter throws. */
  function throwingGetter(key: string, rest: Record<string, unknown> = {}): object {
    return Object.defineProperty({ ...rest }, key, {
      enumerable: true,
      get() {
        throw new Error(`${key} boom`);
      },
    });
  }

  it("options with a throwing getter fail as unreadable options at the call, with the caller's code", () => {
    assert.throws(
      () => createApp(throwingGetter("shutdownTimeout") as never),
      tend("TEND_E_INVALID_APP_OPTIONS", "createApp options"),
    );
    assert.throws(
      () => new Manager(throwingGetter("shutdownTimeout") as never),
      tend("TEND_E_UNREADABLE_OPTIONS", "Manager options"),
    );
    assert.throws(
      () => createApp({ http: throwingGetter("port") as never }),
      tend("TEND_E_INVALID_HTTP_OPTIONS"),
    );
    const app = createApp({ database, log: createLogger({ level: "silent" }) });
    assert.throws(
      () => app.job("work", () => undefined, throwingGetter("maxAttempts") as never),
      tend("TEND_E_UNREADABLE_OPTIONS", "job kind options of work"),
    );
  });

  it("enqueue, enqueueMany and batch report an unreadable item or list with its position", async () => {
    const app = createApp({ database, log: createLogger({ level: "silent" }) });
    try {
      app.job("work", () => undefined);
      await assert.rejects(
        app.jobs.enqueue("work", {}, throwingGetter("priority") as never),
        tend("TEND_E_UNREADABLE_OPTIONS", "enqueue options of work"),
      );
      const items = [{ kind: "work", payload: {} }, throwingGetter("priority", { kind: "work" })];
      await assert.rejects(
        app.jobs.enqueueMany(items as never),
        tend("TEND_E_UNREADABLE_OPTIONS", "enqueueMany items[1]"),
      );
      await assert.rejects(
        app.jobs.batch(items as never),
        tend("TEND_E_UNREADABLE_OPTIONS", "batch items[1]"),
      );
      const list = new Proxy([{ kind: "work", payload: {} }], {
        get(target, key) {
          if (key === "0") throw new Error("get boom");
          return Reflect.get(target, key);
        },
      });
      await assert.rejects(
        app.jobs.enqueueMany(list as never),
        tend("TEND_E_UNREADABLE_OPTIONS", "enqueueMany items[0]"),
      );
      const noLength = new Proxy([{ kind: "work", payload: {} }], {
        get(target, key) {
          if (key === "length") throw new Error("length boom");
          return Reflect.get(target, key);
        },
      });
      await assert.rejects(
        app.jobs.enqueueMany(noLength as never),
        tend("TEND_E_UNREADABLE_OPTIONS", "enqueueMany items"),
      );
      await assert.rejects(
        app.jobs.batch(noLength as never),
        tend("TEND_E_UNREADABLE_OPTIONS", "batch items"),
      );
      // A bad item that can be read is still reported by what is wrong with it.
      await assert.rejects(
        app.jobs.enqueueMany([{ kind: "work", payload: {}, priority: "high" }] as never),
        tend("TEND_E_INVALID_JOB_OPTIONS", "priority"),
      );
      assert.deepEqual(await app.jobs.list({ kind: "work" }), [], "nothing was enqueued");
    } finally {
      await app.close();
    }
  });

  it("manager.stop refuses a reason that is not a string and stays usable", async () => {
    const manager = new Manager({ log: createLogger({ level: "silent" }) });
    manager.run({
      name: "idle",
      run: (signal) => new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve())),
    });
    for (const bad of [Symbol("x"), revokedProxy(), 5])
      assert.throws(() => manager.stop(bad as never), tend("TEND_E_INVALID_LIFECYCLE_OPTION", "stop reason"));
    assert.equal(manager.state, "running");
    await manager.stop("the test is over");
    assert.equal(manager.state, "stopped");
  });

  it("app.start refuses what is not a Manager and the app can still start and close", async () => {
    const app = createApp({ database, log: createLogger({ level: "silent" }) });
    for (const bad of [{}, revokedProxy(), { stop: () => undefined }])
      await assert.rejects(app.start(bad as never), tend("TEND_E_INVALID_APP_OPTIONS", "manager"));
    assert.equal(app.manager, null);
    const manager = await app.start();
    assert.equal(manager.state, "running");
    await app.close();
    assert.equal(manager.state, "stopped");
  });

  it("a revoked Proxy or a Proxy of a Date where a date, a list, a task or a schema goes is refused with the part's code", async () => {
    const app = createApp({ database, log: createLogger({ level: "silent" }) });
    try {
      app.job("work", () => undefined);
      for (const runAt of [revokedProxy(), new Proxy(new Date(), {})])
        await assert.rejects(
          app.jobs.enqueue("work", {}, { runAt: runAt as never }),
          tend("TEND_E_INVALID_JOB_OPTIONS", "runAt"),
        );
      await assert.rejects(
        app.jobs.enqueue("work", {}, { after: revokedProxy() as never }),
        tend("TEND_E_INVALID_JOB_OPTIONS", "after"),
      );
      assert.throws(() => app.ephemeral(revokedProxy() as never), tend("TEND_E_INVALID_TASK"));
      assert.throws(
        () => app.job("other", () => undefined, { validate: revokedProxy() as never }),
        tend("TEND_E_INVALID_JOB_OPTIONS", "validate"),
      );
    } finally {
      await app.close();
    }
    assert.throws(
      () => signalTask({ signals: revokedProxy() as never }),
      tend("TEND_E_UNKNOWN_SIGNAL", "signals"),
    );
    assert.throws(
      () => createApp({ http: { port: 0, allowedHosts: revokedProxy() as never } }),
      tend("TEND_E_INVALID_HTTP_OPTIONS", "allowedHosts"),
    );
    assert.throws(
      () => createSupervisor({ program, args: revokedProxy() as never }),
      tend("TEND_E_SUPERVISE_INVALID_OPTION", "args"),
    );
  });

  it("a log that is not a logger, and options that are null or revoked, are refused before anything starts", async () => {
    await assert.rejects(
      openStore(database, { log: {} as never }),
      tend("TEND_E_INVALID_STORE_ARGUMENT", "log"),
    );
    assert.throws(
      () => createSupervisor({ program, log: {} as never }),
      tend("TEND_E_SUPERVISE_INVALID_OPTION", "log"),
    );
    await assert.rejects(
      supervise({ program, log: revokedProxy() as never }, { exit: () => undefined }),
      tend("TEND_E_SUPERVISE_INVALID_OPTION", "log"),
    );
    await assert.rejects(supervise(null as never), tend("TEND_E_SUPERVISE_INVALID_OPTION"));
    // Options whose keys or values cannot be read: refused as the supervisor's error, not a raw one.
    await assert.rejects(
      supervise(throwingGetter("log", { program }) as never, { exit: () => undefined }),
      tend("TEND_E_SUPERVISE_INVALID_OPTION", "supervisor options"),
    );
    await assert.rejects(
      main(() => undefined, null as never),
      tend("TEND_E_INVALID_LIFECYCLE_OPTION", "main options"),
    );
    await assert.rejects(main(revokedProxy() as never), tend("TEND_E_INVALID_LIFECYCLE_OPTION", "setup"));
    const app = createApp({ database, log: createLogger({ level: "silent" }) });
    assert.throws(() => app.main(revokedProxy() as never), tend("TEND_E_INVALID_APP_OPTIONS"));
    assert.throws(() => app.main({ log: createLogger() } as never), tend("TEND_E_UNKNOWN_OPTION", "log"));
    assert.equal(app.manager, null, "nothing started");
  });

  it("isTendError, isTerminalError and exitCodeFor answer for a revoked Proxy instead of throwing", () => {
    assert.equal(isTendError(revokedProxy()), false);
    assert.equal(isTerminalError(revokedProxy()), false);
    assert.equal(exitCodeFor(revokedProxy()), 1);
    const sneaky = Object.defineProperty(new Error("x"), "terminal", {
      get() {
        throw new Error("terminal boom");
      },
    });
    assert.equal(isTerminalError(sneaky), false);
  });
});

describe("input validation: more hostile values (gap 7)", () => {
  it("a revoked transaction handle, inbox match, supervisor store, or a payload whose prototype cannot be read", async () => {
    const app = createApp({ database, log: createLogger({ level: "silent" }) });
    try {
      app.job("work", () => undefined);
      await assert.rejects(
        app.jobs.enqueue("work", {}, { tx: revokedProxy() }),
        tend("TEND_E_INVALID_TRANSACTION"),
      );
      const trapped = new Proxy(
        { a: 1 },
        {
          getPrototypeOf() {
            throw new Error("prototype boom");
          },
        },
      );
      await assert.rejects(
        app.jobs.enqueue("work", trapped),
        tend("TEND_E_INVALID_PAYLOAD", "prototype boom"),
      );
    } finally {
      await app.close();
    }
    for (const match of [revokedProxy(), new Proxy(/x/, {})])
      assert.throws(
        () => createApp().inbox({ dir: "/nonexistent", match: match as never, process: () => undefined }),
        tend("TEND_E_INBOX_MATCH"),
      );
    assert.throws(() => callerClient(revokedProxy()), tend("TEND_E_INVALID_TRANSACTION"));
    await assert.rejects(listParkedKeys(revokedProxy() as never), tend("TEND_E_CONVERGER_UNSUPPORTED_STORE"));
    const store = await openStore(database, { log: createLogger({ level: "silent" }) });
    try {
      await assert.rejects(
        clearParkedKeys(store, "archive", revokedProxy() as never),
        tend("TEND_E_CONVERGER_INVALID_OPTION", "key"),
      );
      await assert.rejects(
        listParkedKeys(store, 5 as never),
        tend("TEND_E_CONVERGER_INVALID_OPTION", "converger"),
      );
      assert.deepEqual(await listParkedKeys(store, "archive"), []);
    } finally {
      await store.close();
    }
    assert.throws(
      () => createSupervisor({ program, store: 5 as never }),
      tend("TEND_E_SUPERVISE_INVALID_OPTION", "store"),
    );
  });
});

describe("input validation: signals, convergers and small helpers (gap 8)", () => {
  it("a signal that is not an AbortSignal, a converger that is not one, a bad logger or limits are refused", async () => {
    const fake = { aborted: false, addEventListener: () => undefined };
    assert.throws(
      () => new Limiter(1).acquire(fake as never),
      tend("TEND_E_INVALID_LIFECYCLE_OPTION", "signal"),
    );
    await assert.rejects(
      convergeOnce(revokedProxy() as never),
      tend("TEND_E_CONVERGER_INVALID_OPTION", "converger"),
    );
    await assert.rejects(assertConverged({} as never), tend("TEND_E_CONVERGER_INVALID_OPTION", "converger"));
    const store = await openStore(database, { log: createLogger({ level: "silent" }) });
    try {
      const c = createConverger(definition, { store, log: createLogger({ level: "silent" }) });
      await assert.rejects(
        convergeOnce(c, { signal: revokedProxy() as never }),
        tend("TEND_E_CONVERGER_INVALID_OPTION", "signal"),
      );
      await assert.rejects(
        c.sweepOnce({ signal: fake as never }),
        tend("TEND_E_CONVERGER_INVALID_OPTION", "signal"),
      );
      assert.deepEqual((await convergeOnce(c)).errors, [], "a good converger still sweeps");
    } finally {
      await store.close();
    }
    await assert.rejects(flushLogger(revokedProxy() as never), tend("TEND_E_INVALID_LOG_OPTIONS", "log"));
    await assert.rejects(
      flushLogger(createLogger({ level: "silent" }), -1),
      tend("TEND_E_INVALID_LOG_OPTIONS", "timeoutMs"),
    );
    assert.throws(
      () => parseDuration("1s", "x", revokedProxy() as never),
      tend("TEND_E_INVALID_DURATION", "limits"),
    );
  });
});
