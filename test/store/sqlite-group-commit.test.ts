import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { GroupCommit } from "../../src/store/sqlite/group-commit.ts";
import { openSqliteStore } from "../../src/store/sqlite/open.ts";
import { makeTempDir } from "../support/tmp.ts";

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function tempDb(): Promise<{ db: DatabaseSync; path: string }> {
  const tmp = await makeTempDir("tend-sqlite-gc-");
  const path = join(tmp.dir, "g.db");
  const db = new DatabaseSync(path, { timeout: 1000 });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("CREATE TABLE t (x INTEGER UNIQUE)");
  cleanups.push(async () => {
    if (db.isOpen) db.close();
    await tmp.cleanup();
  });
  return { db, path };
}

function rows(db: DatabaseSync): number[] {
  return db
    .prepare("SELECT x FROM t ORDER BY x")
    .all()
    .map((r) => Number(r["x"]));
}

describe("GroupCommit", () => {
  it("commits the writes of one turn in one transaction; a failing write rolls back alone", async () => {
    const { db, path } = await tempDb();
    const observer = new DatabaseSync(path);
    const version = () => Number(Object.values(observer.prepare("PRAGMA data_version").get() ?? {})[0]);
    try {
      const group = new GroupCommit(db, "FULL");
      const insert = db.prepare("INSERT INTO t VALUES (?)");
      const before = version();
      const results = await Promise.allSettled([
        group.run(() => insert.run(1).changes),
        group.run(() => {
          insert.run(2);
          insert.run(1); // violates UNIQUE: this write (both rows) rolls back
          return 0;
        }),
        group.run(() => insert.run(3).changes),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected", "fulfilled"],
      );
      assert.deepEqual(rows(db), [1, 3]);
      assert.equal(version() - before, 1, "one commit for the whole group");
      assert.equal(db.isTransaction, false);
    } finally {
      observer.close();
    }
  });

  it("rejects every write of a group when the write lock cannot be had, and works again after", async () => {
    const { path } = await tempDb();
    const db = new DatabaseSync(path, { timeout: 50 });
    const holder = new DatabaseSync(path);
    try {
      const group = new GroupCommit(db, "FULL", { busyTimeoutMs: 50 });
      holder.exec("BEGIN IMMEDIATE");
      const results = await Promise.allSettled([
        group.run(() => db.prepare("INSERT INTO t VALUES (10)").run()),
        group.run(() => db.prepare("INSERT INTO t VALUES (11)").run()),
      ]);
      assert.ok(
        results.every(
          (r) => r.status === "rejected" && (r.reason as { code?: string }).code === "TEND_E_STORE_TIMEOUT",
        ),
      );
      holder.exec("ROLLBACK");
      await group.run(() => db.prepare("INSERT INTO t VALUES (12)").run());
      assert.deepEqual(rows(db), [12]);
    } finally {
      holder.close();
      db.close();
    }
  });

  it("commits relaxed-only groups at NORMAL and restores FULL right after", async () => {
    const { db } = await tempDb();
    const group = new GroupCommit(db, "FULL");
    const seen: unknown[] = [];
    await group.run(() => {
      seen.push(Object.values(db.prepare("PRAGMA synchronous").get() ?? {})[0]);
      db.prepare("INSERT INTO t VALUES (1)").run();
    }, true);
    await group.run(() => {
      seen.push(Object.values(db.prepare("PRAGMA synchronous").get() ?? {})[0]);
      db.prepare("INSERT INTO t VALUES (2)").run();
    });
    assert.deepEqual(seen, [1, 2], "NORMAL (1) for the relaxed write, FULL (2) for the durable one");
    assert.equal(Object.values(db.prepare("PRAGMA synchronous").get() ?? {})[0], 2);
  });

  it("a store flushes writes still queued when it closes", async () => {
    const tmp = await makeTempDir("tend-sqlite-gc-");
    cleanups.push(tmp.cleanup);
    const url = `sqlite:${join(tmp.dir, "s.db")}`;
    const store = await openSqliteStore(url, {});
    await store.migrate();
    const job = {
      kind: "k",
      queue: "q",
      payload: "{}",
      priority: 0,
      runAt: new Date(),
      maxAttempts: 1,
      uniqueKey: null,
      batchId: null,
      batchIndex: null,
    };
    const pending = store.jobs.insert([job]);
    await store.close();
    const [r] = await pending;
    const again = await openSqliteStore(url, {});
    try {
      assert.equal((await again.jobs.get(r?.id ?? ""))?.queue, "q");
    } finally {
      await again.close();
    }
  });
});

describe("GroupCommit: another connection holds the write lock", () => {
  it("waits for it on a timer: the event loop keeps turning, and the write commits once the lock is free", async () => {
    const { db, path } = await tempDb();
    const other = new DatabaseSync(path);
    try {
      const group = new GroupCommit(db, "FULL", { busyTimeoutMs: 10_000 });
      other.exec("BEGIN IMMEDIATE");
      let settled = false;
      const write = group.run(() => db.prepare("INSERT INTO t VALUES (7)").run().changes);
      void write.finally(() => (settled = true));
      // Timers fire while the write waits: nothing sleeps on the lock inside the event loop.
      const ticks: number[] = [];
      for (let i = 0; i < 10; i++) {
        const at = performance.now();
        await new Promise((r) => setTimeout(r, 5));
        ticks.push(performance.now() - at);
      }
      assert.equal(settled, false, "the write waits while the lock is held");
      assert.ok(Math.max(...ticks) < 1_000, `timers kept firing (${ticks.map(Math.round).join(", ")} ms)`);
      other.exec("COMMIT");
      assert.equal(await write, 1);
      assert.deepEqual(rows(db), [7]);
    } finally {
      if (other.isTransaction) other.exec("ROLLBACK");
      other.close();
    }
  });
});
