import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { formatInconsistency, parseSince } from "../../src/cli/commands/inconsistencies.ts";
import { AppConvergers } from "../../src/converge/app-convergers.ts";
import { createConverger } from "../../src/converge/runner.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { assertConverged, convergeOnce } from "../../src/testing.ts";
import { makeTempDir } from "../support/tmp.ts";

const run = promisify(execFile);
const log = createLogger({ level: "silent" });
const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;

describe("tend/testing and `tend inconsistencies` (SQLite)", () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let store: Store;
  let db: DatabaseSync;
  let url: string;

  before(async () => {
    tmp = await makeTempDir("tend-converge-");
    url = `sqlite:${join(tmp.dir, "app.db")}`;
    store = await openStore(url);
    db = new DatabaseSync(join(tmp.dir, "app.db"));
    db.exec("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL, target INTEGER NOT NULL)");
    db.exec("INSERT INTO counter VALUES (1, 0, 3), (2, 5, 5)");
  });
  after(async () => {
    db.close();
    await store.close();
    await tmp.cleanup();
  });

  it("convergeOnce returns what changed; assertConverged settles a converger that steps towards its target", async () => {
    const stepper = createConverger(
      {
        name: "stepper",
        find: async (ctx) =>
          (await ctx.sql("SELECT id FROM counter WHERE value < target")).map((r) => Number(r["id"])),
        converge: async (key, ctx) => ({
          changed: await ctx.sql(
            "UPDATE counter SET value = value + 1 WHERE id = $1 AND value < target RETURNING value",
            [key],
          ),
        }),
      },
      { store, log },
    );
    const once = await convergeOnce(stepper);
    assert.deepEqual(once.changed, [{ key: "1", changes: [{ value: 1 }] }]);
    const changes = await assertConverged(stepper);
    assert.equal(changes.length, 2, "two more steps to reach 3");
    assert.equal((db.prepare("SELECT value FROM counter WHERE id = 1").get() as { value: number }).value, 3);
  });

  it("assertConverged fails a converger that always changes something, and one whose key fails", async () => {
    const restless = createConverger(
      { name: "restless", find: () => [1], converge: () => ({ changed: { at: Date.now() } }) },
      { store, log },
    );
    await assert.rejects(assertConverged(restless, { maxSweeps: 3 }), code("TEND_E_CONVERGER_NOT_CONVERGED"));
    const failing = createConverger(
      {
        name: "failing",
        find: () => [1],
        converge: () => {
          throw new Error("boom");
        },
      },
      { store, log },
    );
    await assert.rejects(assertConverged(failing), code("TEND_E_CONVERGER_NOT_CONVERGED"));
  });

  it("an aborted signal fails convergeOnce and assertConverged instead of passing an incomplete sweep", async () => {
    const restless = createConverger(
      { name: "restless-aborted", find: () => ["a", "b"], converge: () => ({ changed: { at: Date.now() } }) },
      { store, log },
    );
    const aborted = AbortSignal.abort(new Error("test timed out"));
    await assert.rejects(convergeOnce(restless, { signal: aborted, throwOnError: true }), /test timed out/);
    await assert.rejects(assertConverged(restless, { signal: aborted }), /test timed out/);
  });

  it("ctx.enqueue hands work to the jobs layer, and says so clearly when there is none", async () => {
    const enqueued: Array<{ kind: string; payload: unknown }> = [];
    const withJobs = createConverger(
      {
        name: "handoff",
        find: () => [1],
        converge: async (key, ctx) => {
          await ctx.enqueue("thing.do", { key });
          return undefined;
        },
      },
      {
        store,
        log,
        enqueue: async (kind, payload) => {
          enqueued.push({ kind, payload });
          return { id: "1", inserted: true };
        },
      },
    );
    assert.deepEqual((await convergeOnce(withJobs)).errors, []);
    assert.deepEqual(enqueued, [{ kind: "thing.do", payload: { key: "1" } }]);
    const withoutJobs = createConverger(
      {
        name: "no-jobs",
        find: () => [1],
        converge: async (_key, ctx) => void (await ctx.enqueue("thing.do")),
      },
      { store, log },
    );
    const report = await convergeOnce(withoutJobs);
    assert.equal(
      (report.errors[0]?.error as { code?: string } | undefined)?.code,
      "TEND_E_CONVERGER_NO_JOBS",
    );
  });

  it("AppConvergers rejects a duplicate name and bad definitions at once", () => {
    const convergers = new AppConvergers();
    convergers.define({ name: "one", find: () => [], converge: () => undefined });
    assert.throws(
      () => convergers.define({ name: "one", find: () => [], converge: () => undefined }),
      code("TEND_E_CONVERGER_DUPLICATE_NAME"),
    );
    assert.throws(
      () => convergers.define({ name: "", find: () => [], converge: () => undefined }),
      code("TEND_E_CONVERGER_INVALID_NAME"),
    );
    assert.equal(convergers.size, 1);
  });

  it("`tend inconsistencies` lists them, filtered by converger and time", async () => {
    const cli = join(import.meta.dirname, "../../bin/tend.js");
    const { stdout } = await run(process.execPath, [cli, "inconsistencies", "--database", url]);
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, 6, `six lines expected:\n${stdout}`);
    assert.match(lines[0] ?? "", /restless|stepper/);
    const only = await run(process.execPath, [
      cli,
      "inconsistencies",
      "-d",
      url,
      "--converger",
      "stepper",
      "--json",
    ]);
    const rows = only.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { converger: string; key: string });
    assert.equal(rows.length, 3);
    assert.ok(rows.every((r) => r.converger === "stepper" && r.key === "1"));
    const none = await run(process.execPath, [cli, "inconsistencies", "-d", url, "--until", "1h"]);
    assert.match(none.stdout, /no inconsistencies/);
    await assert.rejects(
      run(process.execPath, [cli, "inconsistencies", "-d", url, "--since", "yesterday"]),
      (err: unknown) => {
        assert.match((err as { stderr: string }).stderr, /TEND_E_CONVERGER_INVALID_FILTER/);
        return true;
      },
    );
  });

  it("parseSince and formatInconsistency", () => {
    const now = new Date("2026-01-01T12:00:00Z");
    assert.equal(parseSince("2h", now).toISOString(), "2026-01-01T10:00:00.000Z");
    assert.equal(parseSince("2025-12-31T00:00:00Z", now).toISOString(), "2025-12-31T00:00:00.000Z");
    assert.throws(() => parseSince("soon", now), code("TEND_E_CONVERGER_INVALID_FILTER"));
    assert.equal(
      formatInconsistency({
        id: "1",
        converger: "c",
        key: "k",
        changes: { a: 1 },
        at: now,
        holder: null,
        epoch: null,
      }),
      '2026-01-01T12:00:00.000Z  c  k  {"a":1}',
    );
  });
});
