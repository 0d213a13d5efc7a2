import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { migrationsFor } from "../../src/store/components.ts";
import { openStore } from "../../src/store/index.ts";
import { applyMigrations } from "../../src/store/sqlite/migrate.ts";
import { tablesFor } from "../../src/store/sqlite/context.ts";
import { makeTempDir } from "../support/tmp.ts";

describe("jobs migration 6 on SQLite (the jobs table rebuilt for the waiting state)", () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("keeps every row, id and the id counter, and the plain claim still walks the claim index", async () => {
    const tmp = await makeTempDir("tend-deps-migration-");
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, "old.db");
    const url = `sqlite:${path}`;
    // A database as the previous version left it: every migration but the jobs' 6th.
    const before = (await migrationsFor("sqlite")).filter((m) => !(m.component === "jobs" && m.version >= 6));
    const db = new DatabaseSync(path);
    applyMigrations(db, "tend_", tablesFor("tend_"), before, url);
    const insert = db.prepare(
      `INSERT INTO tend_jobs (kind, queue, payload, state, run_at, max_attempts, created_at, progress, concurrency_key)
       VALUES (?, 'old', '{"n":1}', ?, 0, 3, 0, ?, ?)`,
    );
    insert.run("a", "available", null, null);
    insert.run("b", "completed", '{"p":1}', "k");
    insert.run("c", "scheduled", null, null);
    db.prepare("DELETE FROM tend_jobs WHERE kind = 'c'").run(); // the counter (3) is now above the last id (2)
    db.close();

    const store = await openStore(url);
    cleanups.push(() => store.close());
    const rows = await store.jobs.list({ queue: "old" });
    assert.deepEqual(rows.map((r) => [r.id, r.kind, r.state, r.progress]).sort(), [
      ["1", "a", "available", null],
      ["2", "b", "completed", { p: 1 }],
    ]);
    const [next] = await store.jobs.insert([
      {
        kind: "d",
        queue: "old",
        payload: "null",
        priority: 0,
        runAt: new Date(),
        maxAttempts: 1,
        uniqueKey: null,
        batchId: null,
        batchIndex: null,
      },
    ]);
    assert.equal(next?.id, "4", "ids never come back: the autoincrement counter was kept");
    const raw = new DatabaseSync(path);
    try {
      const plan = raw
        .prepare(
          `EXPLAIN QUERY PLAN SELECT id FROM tend_jobs WHERE queue = 'old' AND state IN ('available', 'scheduled', 'retryable')
             AND run_at <= 0 ORDER BY priority, run_at, id LIMIT 10`,
        )
        .all()
        .map((r) => String((r as { detail: unknown }).detail))
        .join("\n");
      assert.match(plan, /tend_jobs_claim_idx/);
      const objects = raw
        .prepare(
          "SELECT name FROM sqlite_master WHERE tbl_name IN ('tend_jobs', 'tend_job_deps') ORDER BY name",
        )
        .all()
        .map((r) => String((r as { name: unknown }).name));
      for (const name of [
        "tend_jobs_batch_idx",
        "tend_jobs_claim_idx",
        "tend_jobs_delete_dependencies",
        "tend_jobs_finished_idx",
        "tend_jobs_keyed_running_idx",
        "tend_jobs_limited_claim_idx",
        "tend_jobs_running_idx",
        "tend_jobs_settle_dependents",
        "tend_jobs_unique_key_idx",
        "tend_job_deps_parent_idx",
      ])
        assert.ok(objects.includes(name), `${name} in ${objects.join(", ")}`);
      assert.equal(
        raw.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'tend_jobs_v6'").get()?.["n"],
        0,
      );
    } finally {
      raw.close();
    }
  });
});
