import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { isTendError } from "../../src/errors/tend-error.ts";
import { type NewJob, openStore, type Store } from "../../src/store/index.ts";
import { rawConnection, type SqliteRaw } from "../../src/store/raw.ts";
import { ROWS_PER_INSERT } from "../../src/store/sqlite/insert.ts";
import { claimSql } from "../../src/store/sqlite/leases.ts";
import { JOBS_MIGRATIONS } from "../../src/store/sqlite/migrations.ts";
import { openSqliteStore, READ_BUSY_TIMEOUT_MS } from "../../src/store/sqlite/open.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function fresh(
  query = "",
  options: Parameters<typeof openStore>[1] = {},
): Promise<{ store: Store; path: string; dir: string }> {
  const tmp = await makeTempDir("tend-sqlite-drv-");
  const path = join(tmp.dir, "a", "b", "tend.db");
  const store = await openStore(`sqlite:${path}${query}`, options);
  cleanups.push(async () => {
    await store.close();
    await tmp.cleanup();
  });
  return { store, path, dir: tmp.dir };
}

function sqlite(store: Store): SqliteRaw {
  const raw = rawConnection(store);
  if (raw.driver !== "sqlite") throw new Error("expected the SQLite driver");
  return raw;
}

function job(overrides: Partial<NewJob> = {}): NewJob {
  return {
    kind: "k",
    queue: "default",
    payload: "{}",
    priority: 0,
    runAt: new Date(Date.now() - 1),
    maxAttempts: 3,
    uniqueKey: null,
    batchId: null,
    batchIndex: null,
    ...overrides,
  };
}

function pragma(db: DatabaseSync, name: string): unknown {
  return Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0];
}

describe("SQLite driver: opening", () => {
  it("creates the folder and file, in WAL, synchronous FULL, foreign keys on, a short busy timeout for reads", async () => {
    const { store, path } = await fresh();
    assert.ok(existsSync(path));
    const raw = sqlite(store);
    assert.equal(raw.path, path);
    assert.equal(raw.prefix, "tend_");
    assert.equal(pragma(raw.db, "journal_mode"), "wal");
    assert.equal(pragma(raw.db, "synchronous"), 2);
    assert.equal(pragma(raw.db, "foreign_keys"), 1);
    // Write locks are waited for on a timer (lock-wait.ts); only reads may wait in the loop, briefly.
    assert.equal(pragma(raw.db, "busy_timeout"), READ_BUSY_TIMEOUT_MS);
    assert.equal(store.driver, "sqlite");
  });

  it("honours ?synchronous=normal and a table prefix", async () => {
    const { store } = await fresh("?synchronous=normal", { tablePrefix: "app_tend_" });
    const raw = sqlite(store);
    assert.equal(pragma(raw.db, "synchronous"), 1);
    const tables = (
      raw.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{
        name: string;
      }>
    )
      .map((r) => r.name)
      .filter((n) => n.startsWith("app_tend_"));
    assert.ok(
      tables.includes("app_tend_jobs") &&
        tables.includes("app_tend_cron") &&
        tables.includes("app_tend_migrations"),
    );
    assert.ok((await store.jobs.insert([job()]))[0]?.inserted);
  });

  it("rejects a bad table prefix and bad options with TEND_E_INVALID_SQLITE_OPTION", async () => {
    const tmp = await makeTempDir();
    cleanups.push(tmp.cleanup);
    const url = `sqlite:${join(tmp.dir, "x.db")}`;
    await assert.rejects(openSqliteStore(url, { tablePrefix: 'x"; DROP TABLE y; --' }), (e: unknown) =>
      isTendError(e, "TEND_E_INVALID_SQLITE_OPTION"),
    );
    await assert.rejects(openSqliteStore(url, { pollMs: 0 }), (e: unknown) =>
      isTendError(e, "TEND_E_INVALID_SQLITE_OPTION"),
    );
    await assert.rejects(openStore(`${url}?synchronous=off`), (e: unknown) =>
      isTendError(e, "TEND_E_INVALID_SQLITE_OPTION"),
    );
  });

  it("migrates once: a second migrate() applies nothing", async () => {
    const { store } = await fresh();
    assert.deepEqual(await store.migrate(), []);
    const rows = sqlite(store)
      .db.prepare("SELECT component, version FROM tend_migrations WHERE component = 'jobs'")
      .all();
    assert.deepEqual(
      rows.map((r) => `${String(r["component"])}:${String(r["version"])}`),
      JOBS_MIGRATIONS.map((m) => `jobs:${m.version}`),
    );
  });

  it("works on :memory: in one process", async () => {
    const store = await openStore("sqlite::memory:");
    try {
      const [r] = await store.jobs.insert([job()]);
      assert.equal((await store.jobs.get(r?.id ?? ""))?.state, "available");
    } finally {
      await store.close();
    }
  });

  it("closes once, even when called twice at the same time", async () => {
    const tmp = await makeTempDir();
    cleanups.push(tmp.cleanup);
    const store = await openStore(`sqlite:${join(tmp.dir, "c.db")}`);
    await Promise.all([store.close(), store.close()]);
    await store.close();
    assert.equal(sqlite(store).db.isOpen, false);
  });
});

describe("SQLite driver: claim plan", () => {
  it("claims through the partial claim index on a fresh, unanalyzed table of 50k rows", async () => {
    const { store } = await fresh();
    const t = Date.now();
    await store.jobs.insert(
      Array.from({ length: 50_000 }, (_, i) =>
        job({
          queue: `q${i % 5}`,
          priority: i % 3,
          runAt: new Date(t - 1000 + (i % 7 === 0 ? 3_600_000 : 0)),
        }),
      ),
    );
    const raw = sqlite(store);
    const plan = (
      raw.db
        .prepare(`EXPLAIN QUERY PLAN ${claimSql('"tend_jobs"', '"tend_queues"')}`)
        .all(t, "w", t + 1000, "q1", 10) as Array<{
        detail: string;
      }>
    ).map((r) => r.detail);
    assert.ok(
      plan.some((d) => d.includes("USING INDEX tend_jobs_claim_idx (queue=?)")),
      `claim uses the claim index: ${plan.join(" | ")}`,
    );
    assert.ok(!plan.some((d) => d.includes("TEMP B-TREE")), `no sort step: ${plan.join(" | ")}`);
    const claimed = await store.jobs.claim({ queue: "q1", limit: 10, workerId: "w", leaseMs: 1000 });
    assert.equal(claimed.length, 10);
  });
});

describe("SQLite driver: caller transactions", () => {
  it("accepts the store's own handle inside BEGIN (commit and rollback)", async () => {
    const { store } = await fresh();
    const { db } = sqlite(store);
    db.exec("BEGIN IMMEDIATE");
    const [kept] = await store.jobs.insert([job({ queue: "own" })], db);
    db.exec("COMMIT");
    db.exec("BEGIN");
    const [dropped] = await store.jobs.insert([job({ queue: "own" })], db);
    db.exec("ROLLBACK");
    assert.equal((await store.jobs.get(kept?.id ?? ""))?.queue, "own");
    assert.equal(await store.jobs.get(dropped?.id ?? ""), null);
  });

  it("rejects a handle outside a transaction, on another file, or closed", async () => {
    const { store, path } = await fresh();
    const same = new DatabaseSync(path);
    const tmp = await makeTempDir();
    cleanups.push(tmp.cleanup);
    const other = new DatabaseSync(join(tmp.dir, "other.db"));
    try {
      const invalid = (e: unknown) => isTendError(e, "TEND_E_INVALID_TRANSACTION");
      await assert.rejects(store.jobs.insert([job()], same), invalid, "not in a transaction");
      other.exec("BEGIN");
      await assert.rejects(store.jobs.insert([job()], other), invalid, "another file");
      other.exec("ROLLBACK");
      const closed = new DatabaseSync(path);
      closed.close();
      await assert.rejects(store.jobs.insert([job()], closed), invalid, "closed");
    } finally {
      same.close();
      other.close();
    }
  });

  it("holds the store's own writes back while a caller's transaction in this process holds the lock", async () => {
    const tmp = await makeTempDir("tend-sqlite-drv-");
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, "hold.db");
    // Writes wait for the caller's commit up to the busy timeout, as for another process's lock.
    const store = await openSqliteStore(`sqlite:${path}`, { busyTimeoutMs: 5_000 });
    cleanups.push(() => store.close());
    await store.migrate();
    await store.jobs.insert([job({ queue: "held" })]);

    // A separate handle: it takes the write lock with our insert and keeps it across awaits.
    const tx = new DatabaseSync(path, { timeout: 1000 });
    tx.exec("BEGIN");
    const [inTx] = await store.jobs.insert([job({ queue: "held" })], tx);
    const claiming = store.jobs.claim({ queue: "held", limit: 10, workerId: "w", leaseMs: 10_000 });
    let settled = false;
    claiming.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(settled, false, "the claim is still waiting for the caller's commit");
    tx.exec("COMMIT");
    tx.close();
    const claimed = await claiming;
    assert.equal(claimed.length, 2, "the claim waited for the commit and then saw both jobs");
    assert.ok(claimed.some((c) => c.id === inTx?.id));

    // The store's own handle inside the caller's BEGIN: writes wait for its COMMIT instead of failing.
    const { db } = sqlite(store);
    db.exec("BEGIN");
    await store.jobs.insert([job({ queue: "own-held" })], db);
    const claimingOwn = store.jobs.claim({ queue: "own-held", limit: 10, workerId: "w", leaseMs: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    db.exec("COMMIT");
    assert.equal((await claimingOwn).length, 1);
  });

  it("keeps a write held back behind a caller's long transaction, says so in the log, and writes it at the commit", async () => {
    const tmp = await makeTempDir("tend-sqlite-drv-");
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, "long.db");
    const { log, lines } = captureLog();
    const store = await openSqliteStore(`sqlite:${path}`, { busyTimeoutMs: 150, log });
    cleanups.push(() => store.close());
    await store.migrate();
    // Longer than the busy timeout: the store's own writes (a worker's completions, heartbeats)
    // wait for the commit rather than fail (failing them would run their jobs again).
    const tx = new DatabaseSync(path, { timeout: 1000 });
    try {
      tx.exec("BEGIN");
      const [inTx] = await store.jobs.insert([job({ queue: "long" })], tx);
      let settled = false;
      const waiting = store.jobs.insert([job({ queue: "long" })]).finally(() => (settled = true));
      const warned = await waitFor(
        () =>
          lines().find((l) =>
            /transaction of this process that holds the SQLite write lock/.test(String(l["msg"])),
          ),
        { message: "the long wait's warning" },
      );
      assert.ok(Number(warned["waitedMs"]) >= 150, `warned after ${String(warned["waitedMs"])} ms`);
      assert.equal(settled, false, "the write still waits");
      tx.exec("COMMIT");
      const [after] = await waiting;
      assert.equal(after?.inserted, true);
      const claimed = await store.jobs.claim({ queue: "long", limit: 10, workerId: "w", leaseMs: 10_000 });
      assert.deepEqual(claimed.map((c) => c.id).sort(), [inTx!.id, after!.id].sort());
    } finally {
      if (tx.isTransaction) tx.exec("ROLLBACK");
      tx.close();
    }
  });

  it("runs raw.writeTransaction under the write lock, rolling back on throw", async () => {
    const { store } = await fresh();
    const raw = sqlite(store);
    raw.db.exec("CREATE TABLE app_t (x INTEGER)");
    raw.writeTransaction(() => raw.db.prepare("INSERT INTO app_t VALUES (1)").run());
    assert.throws(() =>
      raw.writeTransaction(() => {
        raw.db.prepare("INSERT INTO app_t VALUES (2)").run();
        throw new Error("no");
      }),
    );
    assert.deepEqual(
      raw.db
        .prepare("SELECT x FROM app_t")
        .all()
        .map((r) => r["x"]),
      [1],
    );
    assert.equal(raw.db.isTransaction, false);
  });
});

describe("SQLite driver: edge semantics", () => {
  it("cancels (not releases or rescues) a running job whose cancel was requested", async () => {
    const { store } = await fresh();
    await store.jobs.insert([job(), job()]);
    const [a, b] = await store.jobs.claim({ queue: "default", limit: 2, workerId: "w", leaseMs: 1 });
    assert.ok(a && b);
    await store.jobs.cancel(a.id);
    await store.jobs.cancel(b.id);
    assert.deepEqual(await store.jobs.release([a]), [a.id]);
    assert.equal((await store.jobs.get(a.id))?.state, "cancelled");
    // b's 1 ms lease lapses: rescue cancels it and does not report it as rescued.
    await waitFor(
      async () => {
        const rescued = await store.jobs.rescueExpired();
        assert.deepEqual(rescued, []);
        return (await store.jobs.get(b.id))?.state === "cancelled";
      },
      { message: "the lapsed, cancel-requested job to be cancelled by rescueExpired" },
    );
    assert.equal((await store.jobs.get(b.id))?.errors[0]?.code, "TEND_E_LEASE_EXPIRED");
  });

  it("refuses to retry a job whose unique key another pending job holds (TEND_E_RETRY_UNIQUE_KEY_HELD)", async () => {
    const { store } = await fresh();
    const [first] = await store.jobs.insert([job({ uniqueKey: "u" })]);
    await store.jobs.cancel(first?.id ?? "");
    const [second] = await store.jobs.insert([job({ uniqueKey: "u" })]);
    assert.equal(second?.inserted, true);
    await assert.rejects(store.jobs.retry(first?.id ?? ""), (e: unknown) =>
      isTendError(e, "TEND_E_RETRY_UNIQUE_KEY_HELD"),
    );
    assert.equal((await store.jobs.get(first?.id ?? ""))?.state, "cancelled");
  });

  it("counts only the last minute's jobs in enqueuedPerSec (bisects ids by created_at)", async () => {
    const { store } = await fresh();
    await store.jobs.insert(Array.from({ length: 500 }, () => job({ queue: "r" })));
    const raw = sqlite(store);
    raw.db.prepare("UPDATE tend_jobs SET created_at = created_at - 120000 WHERE id <= 400").run();
    await store.jobs.insert(Array.from({ length: 30 }, () => job({ queue: "r" })));
    const r = (await store.jobs.stats()).find((s) => s.queue === "r");
    assert.ok(r && Math.abs(r.enqueuedPerSec - 130 / 60) < 1e-9, `enqueuedPerSec ${r?.enqueuedPerSec}`);
  });

  it("announces a batch job reaching a final state on the 'batch' channel", async () => {
    const { store } = await fresh();
    const heard: string[] = [];
    const stop = await store.notifier.listen("batch", (p) => heard.push(p));
    await store.jobs.insert([job({ batchId: "bx", batchIndex: 0 })]);
    const [c] = await store.jobs.claim({ queue: "default", limit: 1, workerId: "w", leaseMs: 10_000 });
    assert.ok(c);
    await store.jobs.complete([{ id: c.id, leaseToken: c.leaseToken, result: "1" }]);
    await waitFor(() => heard.includes("bx"), { message: "a 'batch' notification" });
    await stop();
  });
});

describe("SQLite driver: bulk insert", () => {
  it("inserts in multi-row statements, keeping input order, unique keys and in-call duplicates", async () => {
    const { store } = await fresh();
    const jobs: NewJob[] = Array.from({ length: 3 * ROWS_PER_INSERT + 5 }, (_, n) =>
      job({ payload: JSON.stringify({ n }), runAt: new Date(Date.now() + (n % 7 === 0 ? 60_000 : -1)) }),
    );
    jobs[70] = job({ payload: JSON.stringify({ n: 70 }), uniqueKey: "u" });
    jobs[150] = job({ payload: JSON.stringify({ n: 150 }), uniqueKey: "u" });
    const results = await store.jobs.insert(jobs);
    assert.equal(results.length, jobs.length);
    assert.deepEqual(
      results[150],
      { id: results[70]!.id, inserted: false, outcome: "kept" },
      "the duplicate sees the first",
    );
    const inserted = results.filter((r, n) => n !== 150);
    assert.ok(inserted.every((r) => r.inserted));
    assert.equal(new Set(inserted.map((r) => r.id)).size, inserted.length, "distinct ids");
    const ids = inserted.map((r) => Number(r.id));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      "ids in input order",
    );
    for (const [n, r] of results.entries()) {
      if (n === 150) continue;
      const row = await store.jobs.get(r.id);
      assert.deepEqual(row?.payload, { n }, `job ${n}`);
      assert.equal(row?.state, n % 7 === 0 && n !== 70 ? "scheduled" : "available", `job ${n} state`);
    }
  });
});
