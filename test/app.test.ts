import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createApp } from "../src/app.ts";
import { captureLog } from "./lifecycle/log-capture.ts";
import { type Backend, createBackend } from "./support/backends.ts";

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
