import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createApp } from "../src/app.ts";
import { captureLog } from "./lifecycle/log-capture.ts";
import { join } from "node:path";
import { type Backend, createBackend } from "./support/backends.ts";
import { makeTempDir } from "./support/tmp.ts";

describe("createApp", () => {
  it("rejects bad options with TEND_E_ codes naming the value", () => {
    assert.throws(() => createApp(null as never), { code: "TEND_E_INVALID_APP_OPTIONS" });
    for (const convergers of [null, "4", []])
      assert.throws(() => createApp({ convergers: convergers as never }), {
        code: "TEND_E_CONVERGER_INVALID_OPTION",
      });
    assert.throws(
      () => createApp({ database: 42 as never }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "TEND_E_INVALID_DATABASE_URL");
        assert.match(err.message, /got 42/);
        return true;
      },
    );
    const app = createApp({ database: "sqlite:./var/never-opened.db" });
    assert.throws(() => app.task("not a task" as never), { code: /^TEND_E_/ });
    assert.throws(() => app.use("nope" as never), { code: "TEND_E_INVALID_APP_OPTIONS" });
    assert.throws(() => app.converger({} as never), { code: /^TEND_E_CONVERGER/ });
  });
});

for (const driver of ["sqlite", "postgres"] as const) {
  describe(`the app's logger reaches its store (${driver})`, () => {
    let backend: Backend | null = null;
    after(async () => {
      await backend?.cleanup();
    });

    it('logs the store\'s lines through createApp({ log }) with part "store"', async () => {
      backend = await createBackend(driver);
      assert.ok(backend !== null);
      const capture = captureLog();
      // A schema of its own on PostgreSQL (the test database's template is migrated already), so
      // that opening the store applies migrations and says so.
      const app = createApp({
        database: backend.url,
        log: capture.log,
        ...(driver === "postgres" ? { store: { schema: "app_log" } } : {}),
      });
      try {
        await app.store();
      } finally {
        await app.close();
      }
      const line = capture.lines().find((l) => l["part"] === "store" && /migrations/.test(String(l["msg"])));
      assert.ok(line !== undefined, `a store line in ${JSON.stringify(capture.lines())}`);
      assert.ok(Array.isArray(line["applied"]) && line["applied"].length > 0, "it names what was applied");
    });
  });
}

describe("starting an app", () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function freshApp(extra: Partial<Parameters<typeof createApp>[0]> = {}) {
    const tmp = await makeTempDir("tend-app-start-");
    cleanups.push(tmp.cleanup);
    const app = createApp({
      database: `sqlite:${join(tmp.dir, "tend.db")}`,
      log: captureLog().log,
      http: { port: 0 },
      ...extra,
    });
    cleanups.push(() => app.close());
    return app;
  }

  it("a start that fails leaves nothing running: tasks stopped, the server closed, the store closed", async () => {
    const app = await freshApp();
    app.job("noop", () => {});
    app.use(() => {
      throw new Error("component boom");
    });
    await assert.rejects(app.start(), /component boom/);
    assert.equal(app.manager?.state, "stopped");
    assert.deepEqual(app.manager?.tasks, []);
    const address = app.httpAddress;
    assert.ok(address !== null, "the server had been listening");
    await assert.rejects(fetch(`${address}/readyz`), "the server is closed");
  });

  it("refuses a second start while running, and registrations that would never run; after a stop, starts again", async () => {
    const app = await freshApp();
    const first = await app.start();
    await assert.rejects(app.start(), { code: "TEND_E_APP_STARTED" });
    const late = { name: "late", run: async () => {} };
    assert.throws(() => app.task(late), { code: "TEND_E_APP_STARTED" });
    assert.throws(() => app.ephemeral(late), { code: "TEND_E_APP_STARTED" });
    assert.throws(() => app.use(() => []), { code: "TEND_E_APP_STARTED" });
    assert.throws(() => app.cron("* * * * *", "noop"), { code: "TEND_E_APP_STARTED" });
    await first.stop("test");
    app.task(late);
    const second = await app.start();
    assert.notEqual(second, first);
    assert.ok(
      second.tasks.includes("late") || second.state !== "running",
      "the task added after the stop runs",
    );
    await second.stop("test");
  });
});

describe("the package's public names", () => {
  it("exports the lifecycle's pure helpers the docs name", async () => {
    const tend = await import("../src/index.ts");
    for (const name of ["exitCodeFor", "currentTask", "nextRunDelay", "parseTimeout", "parseDuration"])
      assert.equal(typeof (tend as Record<string, unknown>)[name], "function", name);
    assert.equal(tend.exitCodeFor(undefined), tend.EXIT_OK);
  });
});
