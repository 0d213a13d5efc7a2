import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout } from "node:timers/promises";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { isTendError } from "../../src/errors/tend-error.ts";
import { migrationsFor } from "../../src/store/components.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { createContext } from "../../src/store/postgres/context.ts";
import { claimBucket, claimSql } from "../../src/store/postgres/leases.ts";
import { rawConnection } from "../../src/store/raw.ts";
import { newJob } from "../conformance/job-store/helpers.ts";
import { createTestDatabase, requirePostgres, type TestDatabase } from "../support/postgres.ts";
import { waitFor } from "../support/wait.ts";

/** PostgreSQL-specific behaviour: migration lock, listener reconnect, caller transactions, plans. */
const available = await requirePostgres();

describe(
  "PostgreSQL driver",
  {
    skip: available ? false : "PostgreSQL unreachable (TEND_SKIP_POSTGRES=1)",
  },
  () => {
    let db: TestDatabase;
    let admin: pg.Client;
    const stores: Store[] = [];
    const children: ChildProcess[] = [];
    const open = async (schema: string, poolSize = 4) => {
      const store = await openStore(db.url, { schema, poolSize });
      stores.push(store);
      return store;
    };

    before(async () => {
      db = await createTestDatabase();
      admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
    });
    after(async () => {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      await Promise.all(stores.map((s) => s.close()));
      await admin?.end();
      await db?.drop();
    });

    it("two overlapping cron ticks with overlap 'skip' enqueue one job: the later tick sees the earlier's", async () => {
      const schema = "cron_overlap";
      const a = await open(schema);
      const b = await open(schema);
      const tick = (s: Store, minute: number) =>
        s.jobs.cronTick(
          "every",
          new Date(Date.UTC(2026, 0, 1, 0, minute)),
          newJob({ kind: "cron.every" }),
          "skip",
        );
      const first = await tick(a, 0);
      assert.equal(first.outcome, "enqueued");
      const [job] = await a.jobs.claim({ queue: "default", limit: 1, workerId: "w", leaseMs: 60_000 });
      await a.jobs.complete([{ ...job!, result: null }]);
      // A third session holds the schedule's row, so that both ticks' statements wait on it at once.
      const holder = new pg.Client({ connectionString: db.url });
      await holder.connect();
      try {
        await holder.query("BEGIN");
        await holder.query(`SELECT 1 FROM "${schema}".cron WHERE name = 'every' FOR UPDATE`);
        const ticks = [tick(a, 1), tick(b, 2)];
        await waitFor(
          async () =>
            (
              await admin.query(
                `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
              )
            ).rows[0].n >= 2,
          { message: "both ticks waiting" },
        );
        await holder.query("COMMIT");
        const outcomes = (await Promise.all(ticks)).map((r) => r.outcome);
        assert.equal(outcomes.filter((o) => o === "enqueued").length, 1, outcomes.join(", "));
      } finally {
        await holder.end();
      }
      const pending = await a.jobs.list({ queue: "default", state: "available", limit: 10 });
      assert.equal(pending.length, 1, "one tick's job, not two");
    });

    it("migrates once when several processes start together (transaction-level advisory lock)", async () => {
      const schema = "race";
      const spawnChild = () => {
        const child = spawn(process.execPath, ["test/store/postgres-migrate-child.ts", db.url, schema], {
          stdio: ["pipe", "pipe", "inherit"],
        });
        children.push(child);
        const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
        return { child, next: async () => String((await lines.next()).value ?? "") };
      };
      const procs = [spawnChild(), spawnChild(), spawnChild()];
      for (const p of procs) assert.equal(await p.next(), "ready");
      for (const p of procs) p.child.stdin!.write("go\n");
      const outputs = await Promise.all(
        procs.map(async (p) => JSON.parse(await p.next()) as { applied?: string[] }),
      );
      await Promise.all(procs.map((p) => (p.child.exitCode === null ? once(p.child, "exit") : null)));
      const expected = (await migrationsFor("postgres")).length;
      assert.ok(
        outputs.every((o) => Array.isArray(o.applied)),
        `no process failed: ${JSON.stringify(outputs)}`,
      );
      const counts = outputs.map((o) => o.applied!.length).sort((a, b) => a - b);
      assert.deepEqual(counts, [0, 0, expected], "one process applied everything, the others nothing");
      const { rows } = await admin.query(
        `SELECT component, version, count(*)::int AS n FROM "race".migrations GROUP BY 1, 2`,
      );
      assert.equal(rows.length, expected);
      assert.ok(rows.every((r) => r.n === 1));
    });

    it("reconnects the LISTEN connection after it is terminated, calls onReconnect and hears again", async () => {
      const store = await open("relisten");
      const heard: string[] = [];
      let reconnects = 0;
      await store.notifier.listen(
        "jobs",
        (p) => heard.push(p),
        () => {
          reconnects += 1;
        },
      );
      const listeners = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tend:listen'
       AND query = 'LISTEN "relisten.jobs"'`,
      );
      assert.equal(listeners.rows.length, 1, "one LISTEN connection for the store");
      await admin.query("SELECT pg_terminate_backend($1)", [listeners.rows[0]!.pid]);
      await waitFor(() => reconnects >= 1, {
        message: "onReconnect after the LISTEN backend was terminated",
      });
      await store.jobs.insert([newJob({ queue: "after-reconnect" })]);
      await waitFor(() => heard.includes("after-reconnect"), {
        message: "a notification after reconnecting",
      });
      assert.equal(reconnects, 1);
    });

    it("subscribes and unsubscribes many channels at once on its one LISTEN connection", async (t) => {
      const overlapping: string[] = [];
      const onWarning = (w: Error) => {
        if (/already executing a query/.test(w.message)) overlapping.push(w.message);
      };
      process.on("warning", onWarning);
      t.after(() => process.off("warning", onWarning));
      const store = await open("manylisten");
      const heard = new Map<string, string[]>();
      const channels = Array.from({ length: 12 }, (_, i) => `c${i}`);
      const stops = await Promise.all(
        channels.map((c) => store.notifier.listen(c, (p) => heard.set(c, [...(heard.get(c) ?? []), p]))),
      );
      // Half of them stop at once, while the rest are still being heard.
      await Promise.all(stops.filter((_, i) => i % 2 === 0).map((stop) => stop()));
      for (const c of channels) await store.notifier.notify(c, `to-${c}`);
      const kept = channels.filter((_, i) => i % 2 === 1);
      await waitFor(() => kept.every((c) => heard.get(c)?.includes(`to-${c}`)), {
        message: "every channel still subscribed hears its notification",
      });
      // A marker sent last on a kept channel: once it arrives, any stray delivery would have too.
      await store.notifier.notify(kept[0]!, "marker");
      await waitFor(() => heard.get(kept[0]!)?.includes("marker"), { message: "the marker" });
      for (const c of channels.filter((_, i) => i % 2 === 0)) assert.equal(heard.get(c), undefined, c);
      assert.deepEqual(overlapping, [], "no command was sent while another ran on the connection");
    });

    it("notifies at the caller's commit, not before, and accepts a pooled client as the transaction", async (t) => {
      const store = await open("txnotify");
      const heard: string[] = [];
      await store.notifier.listen("jobs", (p) => heard.push(p));
      const pool = new pg.Pool({ connectionString: db.url, max: 1 });
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const [result] = await store.jobs.insert([newJob({ queue: "in-tx" })], client);
        // A notification sent after the insert (and committed) arrives while the insert is uncommitted.
        await store.notifier.notify("jobs", "marker");
        await waitFor(() => heard.includes("marker"), { message: "the marker notification" });
        assert.ok(!heard.includes("in-tx"), "nothing heard before the caller commits");
        assert.equal(await store.jobs.get(result!.id), null);
        await client.query("COMMIT");
        await waitFor(() => heard.includes("in-tx"), { message: "the insert's notification at commit" });
        assert.equal((await store.jobs.get(result!.id))?.state, "available");
      } finally {
        client.release();
      }
      t.after(() => pool.end());
      await assert.rejects(store.jobs.insert([newJob()], { query: 1 }), (err: unknown) =>
        isTendError(err, "TEND_E_INVALID_TRANSACTION"),
      );
      await assert.rejects(store.jobs.insert([newJob()], pool), (err: unknown) =>
        isTendError(err, "TEND_E_INVALID_TRANSACTION"),
      );
      // A client outside BEGIN: each statement of the insert would commit alone, so a failing call
      // could leave part of it committed. Refused, nothing written.
      const outside = await pool.connect();
      try {
        await outside.query("SELECT 1");
        const before = (await store.jobs.list({ queue: "not-in-tx" })).length;
        await assert.rejects(store.jobs.insert([newJob({ queue: "not-in-tx" })], outside), (err: unknown) =>
          isTendError(err, "TEND_E_INVALID_TRANSACTION"),
        );
        assert.equal((await store.jobs.list({ queue: "not-in-tx" })).length, before);
      } finally {
        outside.release();
      }
    });

    it("claims through the claim index on a freshly loaded, never analyzed 50k-row table", async () => {
      const schema = "fresh";
      const store = await open(schema);
      await admin.query(`ALTER TABLE "fresh".jobs SET (autovacuum_enabled = false)`);
      const queues = ["default", "mail", "reports", "slow"];
      for (let chunk = 0; chunk < 10; chunk++) {
        await store.jobs.insert(
          Array.from({ length: 5000 }, (_, i) =>
            newJob({ queue: queues[i % queues.length]!, priority: i % 3, runAt: new Date(Date.now() - i) }),
          ),
        );
      }
      const stats = await admin.query<{ reltuples: number; analyzed: boolean }>(
        `SELECT c.reltuples, (s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL) AS analyzed
       FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = '"fresh".jobs'::regclass`,
      );
      assert.equal(stats.rows[0]?.analyzed, false, "the table was never analyzed");
      const raw = rawConnection(store);
      const ctx = createContext(
        raw.driver === "postgres" ? raw.pool : assert.fail(),
        schema,
        () => false,
        10_000,
      );
      // The statement the claim runs (a constant scan limit), and the one with the limit a parameter.
      for (const text of [claimSql(ctx, claimBucket(50)), claimSql(ctx)]) {
        const { rows } = await admin.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, [
          "mail",
          50,
          "w1",
          30_000,
          "token",
          50,
        ]);
        const plan = JSON.stringify(rows[0]?.["QUERY PLAN"]);
        assert.match(plan, /"Index Name":"jobs_claim_idx"/, `claim uses the claim index: ${plan}`);
        assert.doesNotMatch(plan, /"Node Type":"Seq Scan"/, "no sequential scan");
        // The claimed rows (at most the limit) are sorted on the way out; the scan itself is in index order.
        const claimScan = JSON.stringify(
          findPlan(rows[0]?.["QUERY PLAN"], (n) => n["Subplan Name"] === "CTE c"),
        );
        assert.match(claimScan, /"Node Type":"Limit"/, `the claim CTE is in the plan: ${plan}`);
        assert.doesNotMatch(claimScan, /"Node Type":"Sort"/, "the index provides the claim order");
      }
      // After five executions PostgreSQL settles on the generic plan (its parameters show as $n):
      // the claim is no longer planned at every execution. Rolled back: nothing stays claimed.
      const bucket = claimBucket(50);
      await admin.query(`PREPARE claim_check AS ${claimSql(ctx, bucket)}`);
      await admin.query("BEGIN");
      try {
        for (let i = 0; i < 6; i++)
          await admin.query(`EXECUTE claim_check('mail', ${40 + i}, 'w1', 30000, 't${i}', 0)`);
        const { rows } = await admin.query<{ "QUERY PLAN": string }>(
          "EXPLAIN EXECUTE claim_check('mail', 47, 'w1', 30000, 't', 0)",
        );
        const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
        assert.match(plan, /queue = \$1/, `the generic plan is used: ${plan}`);
        assert.match(
          plan,
          /Index Scan using jobs_claim_idx/,
          `the generic plan walks the claim index: ${plan}`,
        );
        assert.doesNotMatch(plan, /Seq Scan/, "the generic plan scans nothing sequentially");
      } finally {
        await admin.query("ROLLBACK");
        await admin.query("DEALLOCATE claim_check");
      }
      const claimed = await store.jobs.claim({ queue: "mail", limit: 50, workerId: "w1", leaseMs: 30_000 });
      assert.equal(claimed.length, 50);
    });

    it("a claim that waited for its queue's claim lock still gets its whole lease", async () => {
      const store = await open("lease_wait");
      const [job] = await store.jobs.insert([
        newJob({ queue: "lw", concurrencyKey: "t1", concurrencyLimit: 5 }),
      ]);
      const leaseMs = 400;
      // Another claimer of the queue holds its claim lock (a transaction-level advisory lock).
      const holder = new pg.Client({ connectionString: db.url });
      await holder.connect();
      try {
        await holder.query("BEGIN");
        await holder.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ["lease_wait.claim.lw"]);
        const claim = store.jobs.claim({ queue: "lw", limit: 1, workerId: "w1", leaseMs });
        await waitFor(
          async () =>
            (
              await admin.query<{ n: number }>(
                "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
              )
            ).rows[0]!.n > 0,
          { message: "the claim to wait for the queue's claim lock" },
        );
        // It waits longer than its lease (the passage of time is the point here).
        await setTimeout(leaseMs + 200);
        await holder.query("COMMIT");
        const [claimed] = await claim;
        assert.equal(claimed?.id, job!.id);
        const row = await store.jobs.get(job!.id);
        const left = row!.leaseExpiresAt!.getTime() - Date.now();
        assert.ok(
          left > leaseMs / 2,
          `the lease runs from the claim, not from before its wait (${left} ms left)`,
        );
      } finally {
        await holder.end();
      }
    });

    it("a keyed claim skips a pending job another transaction holds locked, without waiting, and takes it once released", async () => {
      const store = await open("keyed_locks");
      const [a, b, c] = await store.jobs.insert([
        newJob({ queue: "k", concurrencyKey: "t1", concurrencyLimit: 5 }),
        newJob({ queue: "k", concurrencyKey: "t1", concurrencyLimit: 5 }),
        newJob({ queue: "k", concurrencyKey: "t2", concurrencyLimit: 5 }),
      ]);
      const holder = new pg.Client({ connectionString: db.url });
      await holder.connect();
      try {
        await holder.query("BEGIN");
        await holder.query(`SELECT id FROM "keyed_locks".jobs WHERE id = $1 FOR UPDATE`, [a!.id]);
        const claim = () => store.jobs.claim({ queue: "k", limit: 10, workerId: "w1", leaseMs: 30_000 });
        // A claim that waited for the lock would block here until the store's statement timeout
        // failed it (the holder ends only after the assertion).
        const first = await claim();
        assert.deepEqual(
          first.map((j) => j.id).sort(),
          [b!.id, c!.id].sort(),
          "the locked job is skipped, the others are taken",
        );
        await holder.query("COMMIT");
        const second = await claim();
        assert.deepEqual(
          second.map((j) => j.id),
          [a!.id],
          "released, it is taken by the next claim",
        );
      } finally {
        await holder.end();
      }
    });

    it("renews a worker's leases without waiting for a row a caller's transaction holds (a dependent of a running job, uncommitted)", async () => {
      const store = await open("beat_locks");
      await store.jobs.insert([newJob({ queue: "b" }), newJob({ queue: "b" })]);
      const running = await store.jobs.claim({ queue: "b", limit: 10, workerId: "w1", leaseMs: 30_000 });
      assert.equal(running.length, 2);
      const [parent, other] = running;
      const caller = new pg.Client({ connectionString: db.url });
      await caller.connect();
      try {
        // The caller's transaction enqueues a job after the running parent: that locks the
        // parent's row until it commits.
        await caller.query("BEGIN");
        await store.jobs.insert([newJob({ queue: "b", after: [parent!.id] })], caller);
        const leaseOf = async (id: string) =>
          (
            await caller.query<{ at: Date }>(
              `SELECT lease_expires_at AS at FROM "beat_locks".jobs WHERE id = $1`,
              [id],
            )
          ).rows[0]!.at.getTime();
        const before = await leaseOf(other!.id);
        // A heartbeat that waited for the parent's row would block here until the store's
        // statement timeout failed it (the caller commits only after the assertions).
        const beat = await store.jobs.heartbeat(
          running.map((j) => ({ id: j.id, leaseToken: j.leaseToken })),
          60_000,
        );
        assert.deepEqual(
          beat.map((b) => [b.id, b.held, b.renewed !== false]),
          [
            [parent!.id, true, false],
            [other!.id, true, true],
          ],
          "both held; the locked one not extended (the worker renews it again soon)",
        );
        const fresh = new pg.Client({ connectionString: db.url });
        await fresh.connect();
        try {
          const { rows } = await fresh.query<{ at: Date }>(
            `SELECT lease_expires_at AS at FROM "beat_locks".jobs WHERE id = $1`,
            [other!.id],
          );
          assert.ok(rows[0]!.at.getTime() > before + 20_000, "the other job's lease was renewed (to 60 s)");
        } finally {
          await fresh.end();
        }
        await caller.query("COMMIT");
        // Once the caller committed, the parent's lease is renewed too.
        const again = await store.jobs.heartbeat(
          [{ id: parent!.id, leaseToken: parent!.leaseToken }],
          60_000,
        );
        assert.equal(again[0]?.held, true);
        assert.notEqual(again[0]?.renewed, false);
        assert.ok(
          (await leaseOf(parent!.id)) > before + 20_000,
          "the parent's lease renewed after the commit",
        );
      } finally {
        await caller.end();
      }
    });

    for (const limited of ["queue", "key"] as const)
      it(`a claim under a ${limited}'s rate limit that waited for the claim lock into a later window, behind a claim of that window, starts nothing`, async () => {
        const schema = `rate_race_${limited}`;
        const store = await open(schema);
        const queue = "rated";
        const periodMs = 1_000;
        // The window's row: the queue's own, or the key's (`<queue>/<key>`).
        const bucket = limited === "queue" ? queue : `${queue}/k`;
        if (limited === "queue") await store.jobs.setQueueLimits(queue, { rate: { limit: 3, periodMs } });
        await store.jobs.insert(
          Array.from({ length: 6 }, () =>
            newJob(
              limited === "queue"
                ? { queue }
                : {
                    queue,
                    concurrencyKey: "k",
                    concurrencyLimit: null,
                    rateLimit: 3,
                    ratePeriodMs: periodMs,
                  },
            ),
          ),
        );
        // Just after a window opens, so that the claim's transaction begins in it.
        await setTimeout(periodMs - (Date.now() % periodMs) + 50);
        const began = Date.now();
        const holder = new pg.Client({ connectionString: db.url });
        await holder.connect();
        try {
          // Another claim holds the queue's claim lock...
          await holder.query("BEGIN");
          await holder.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
            `${schema}.claim.${queue}`,
          ]);
          const claim = store.jobs.claim({ queue, limit: 10, workerId: "late", leaseMs: 30_000, start: 10 });
          await waitFor(
            async () =>
              (
                await admin.query(
                  "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND datname = current_database()",
                )
              ).rowCount === 1,
            { message: "the claim waiting for the queue's claim lock" },
          );
          assert.ok(Date.now() - began < periodMs - 100, "the claim began in the first window");
          // ...until the next window, in which it starts the window's whole limit, and commits.
          await setTimeout(periodMs - (Date.now() % periodMs) + 50);
          await holder.query(
            `INSERT INTO "${schema}".rate_windows (bucket, window_start, started, window_end)
           VALUES ($1, to_timestamp(floor(extract(epoch FROM clock_timestamp()) * 1000 / $2) * $2 / 1000.0), 3, NULL)
           ON CONFLICT (bucket) DO UPDATE SET window_start = EXCLUDED.window_start, started = 3`,
            [bucket, periodMs],
          );
          await holder.query("COMMIT");
          const late = await claim;
          assert.equal(
            late.length,
            0,
            "its own window is earlier than the one already used up: it starts nothing",
          );
          const { rows } = await admin.query<{ started: number; later: boolean }>(
            `SELECT started, window_start > to_timestamp($2 / 1000.0) AS later FROM "${schema}".rate_windows WHERE bucket = $1`,
            [bucket, began],
          );
          assert.deepEqual(rows, [{ started: 3, later: true }], "the later window's count is left as it was");
        } finally {
          await holder.end();
        }
      });

    it("validates its options before connecting", async () => {
      for (const schema of ["Tend", "x-y", "a;drop", ""]) {
        await assert.rejects(openStore(db.url, { schema, migrate: false }), (err: unknown) =>
          isTendError(err, "TEND_E_INVALID_SCHEMA"),
        );
      }
      for (const poolSize of [0, 1.5, -1]) {
        await assert.rejects(openStore(db.url, { poolSize, migrate: false }), (err: unknown) =>
          isTendError(err, "TEND_E_INVALID_POOL_SIZE"),
        );
      }
    });

    it("fails listen() with TEND_E_LISTEN_FAILED when the server cannot be reached", async () => {
      // Port 1 on the loopback interface refuses connections at once.
      const store = await openStore("postgres://postgres@127.0.0.1:1/none", { migrate: false });
      stores.push(store);
      await assert.rejects(
        store.notifier.listen("jobs", () => {}),
        (err: unknown) => isTendError(err, "TEND_E_LISTEN_FAILED"),
      );
    });

    it("rejects calls after close with TEND_E_STORE_CLOSED and closes twice safely", async () => {
      const store = await openStore(db.url, { schema: "closing" });
      await store.close();
      await store.close();
      await assert.rejects(store.jobs.get("1"), (err: unknown) => isTendError(err, "TEND_E_STORE_CLOSED"));
      await assert.rejects(store.notifier.notify("jobs", "x"), (err: unknown) =>
        isTendError(err, "TEND_E_STORE_CLOSED"),
      );
    });
  },
);

/** The first node of an EXPLAIN (FORMAT JSON) plan for which `match` holds, depth first. */
function findPlan(
  plan: unknown,
  match: (node: Record<string, unknown>) => boolean,
): Record<string, unknown> | undefined {
  if (Array.isArray(plan)) {
    for (const p of plan) {
      const found = findPlan(p, match);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (plan === null || typeof plan !== "object") return undefined;
  const node = plan as Record<string, unknown>;
  if (match(node)) return node;
  return findPlan(node["Plan"], match) ?? findPlan(node["Plans"], match);
}
