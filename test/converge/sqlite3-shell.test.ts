import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { createConverger } from "../../src/converge/runner.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const run = promisify(execFile);
const log = createLogger({ level: "silent" });

function sqlite3Version(): string | null {
  try {
    return execFileSync("sqlite3", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

describe("an operator's statement in the sqlite3 shell wakes a converger", () => {
  const version = sqlite3Version();
  let tmp: { dir: string; cleanup(): Promise<void> };
  let store: Store;
  let path: string;

  before(async () => {
    tmp = await makeTempDir("tend-converge-shell-");
    path = join(tmp.dir, "app.db");
    store = await openStore(`sqlite:${path}`);
    const db = new DatabaseSync(path);
    db.exec(
      "CREATE TABLE account (id INTEGER PRIMARY KEY, email TEXT NOT NULL, archived_at TEXT, noted TEXT)",
    );
    db.exec("INSERT INTO account (id, email) VALUES (1, 'ada@example.com')");
    db.close();
  });
  after(async () => {
    await store.close();
    await tmp.cleanup();
  });

  it("UPDATE ... RETURNING in sqlite3 (whatever its version) wakes the converger (no sweep needed)", async (t) => {
    if (version === null) return t.skip("the sqlite3 shell is not installed (apt-get install sqlite3)");
    t.diagnostic(`sqlite3 ${version}`);
    const c = createConverger(
      {
        name: "note-archived",
        every: "1h",
        wakeOn: [{ table: "account", key: "id" }],
        find: async (ctx) =>
          ctx.sql("SELECT id FROM account WHERE archived_at IS NOT NULL AND noted IS NULL"),
        converge: async (id, ctx) => ({
          changed: await ctx.sql(
            "UPDATE account SET noted = 'yes' WHERE id = $1 AND archived_at IS NOT NULL AND noted IS NULL RETURNING id",
            [id],
          ),
        }),
      },
      { store, log },
    );
    const controller = new AbortController();
    const task = c.run(controller.signal);
    try {
      await waitFor(() => c.isLeader(), { message: "the converger to lead" });
      // As docs/operations.md tells operators: a live database's writers hold its lock for
      // moments, so the shell waits for it (.timeout) instead of failing at once.
      const { stdout } = await run("sqlite3", [
        "-cmd",
        ".timeout 5000",
        path,
        "UPDATE account SET archived_at = CURRENT_TIMESTAMP WHERE email = 'ada@example.com' RETURNING id;",
      ]);
      assert.equal(stdout.trim(), "1");
      const at = Date.now();
      const converge = store.converge;
      await waitFor(
        async () => (await converge.listInconsistencies({ converger: "note-archived" })).length === 1,
        {
          timeoutMs: 5000,
          message: "the woken converger to record its change",
        },
      );
      t.diagnostic(`converged ${Date.now() - at} ms after the shell's commit`);
      assert.equal(c.metrics().sweeps, 1, "by the wake-up, not a sweep");
    } finally {
      controller.abort();
      await task;
    }
  });
});
