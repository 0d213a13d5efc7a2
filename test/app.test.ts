import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createApp } from "../src/app.ts";

describe("createApp", () => {
  it("rejects bad options with TEND_E_ codes naming the value", () => {
    assert.throws(() => createApp(null as never), { code: "TEND_E_INVALID_APP_OPTIONS" });
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
