import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import type { BulkAction, BulkFilter } from "../../src/store/admin-model.ts";
import { windowFilter } from "../../src/http/api/list-page.ts";
import { openStore, type ListFilter, type Store } from "../../src/store/index.ts";
import { getJobSql as pgGetJobSql, listSql as pgListSql } from "../../src/store/postgres/admin.ts";
import {
  activitySql as pgActivitySql,
  bulkCountSql as pgBulkCountSql,
} from "../../src/store/postgres/admin-store.ts";
import { createContext, type PgContext } from "../../src/store/postgres/context.ts";
import { recentBoundarySql, statsSql } from "../../src/store/postgres/stats.ts";
import { rawConnection, type SqliteRaw } from "../../src/store/raw.ts";
import { getJobSql, listSql } from "../../src/store/sqlite/admin.ts";
import { activitySql, bulkCountSql } from "../../src/store/sqlite/admin-store.ts";
import { statsStatements } from "../../src/store/sqlite/stats.ts";
import { newJob } from "../conformance/job-store/helpers.ts";
import { createTestDatabase, requirePostgres, type TestDatabase } from "../support/postgres.ts";
import { makeTempDir } from "../support/tmp.ts";

/**
 * The dashboard's reads (jobs list, filtered lists as the API pages them, a job, the overview's
 * statistics, bulk counts) go through indexes on a freshly loaded, never analyzed table of mixed
 * states: their plans, read with EXPLAIN from the statements the store runs, never scan the jobs
 * table whole.
 */
const ROWS = 30_000;
const QUEUES = 10;
const KINDS = 20;

/** The lists the API asks for (see listPage): the newest page, a cursor, and filters in a window. */
function lists(top: number): Array<[string, ListFilter]> {
  const newest = BigInt(top) + 1n;
  return [
    ["jobs list, newest", { limit: 51 }],
    ["jobs list, a page down", { beforeId: String(top - 5_000), limit: 51 }],
    ["filtered: discarded", windowFilter({ state: "discarded", limit: 51 }, newest)],
    [
      "filtered: retryable, queue and kind, a page down",
      windowFilter({ state: "retryable", queue: "q3", kind: "kind.7", limit: 51 }, newest - 100n),
    ],
    ["filtered: queue", windowFilter({ queue: "q2", limit: 51 }, newest)],
    ["filtered: kind", windowFilter({ kind: "kind.1", limit: 51 }, newest - 15_000n)],
    ["text search", windowFilter({ text: "boom", limit: 51 }, newest)],
    ["error text search, one queue", windowFilter({ errorText: "boom", queue: "q1", limit: 51 }, newest)],
    [
      "time range (ids of the range)",
      windowFilter(
        { createdFrom: new Date(Date.now() - 3_600_000), createdBefore: new Date(), limit: 51 },
        newest - 1_000n,
        20_000,
        newest - 5_000n,
      ),
    ],
  ];
}

const BULK: Array<[BulkAction, BulkFilter]> = [
  ["cancel", { queue: "q3" }],
  ["cancel", { state: "scheduled", kind: "kind.7" }],
  ["retry", { state: "discarded", queue: "q3" }],
  ["delete", { queue: "q3" }],
];

/** Loads ROWS jobs, then gives them a table's mix of states (SQL: `$n`-style or `?`-style). */
async function load(store: Store): Promise<void> {
  const t = Date.now();
  for (let chunk = 0; chunk < ROWS / 5_000; chunk++) {
    await store.jobs.insert(
      Array.from({ length: 5_000 }, (_, i) =>
        newJob({
          queue: `q${i % QUEUES}`,
          kind: `kind.${i % KINDS}`,
          runAt: new Date(t - 60_000 + (i % 25 === 0 ? 7_200_000 : 0)),
        }),
      ),
    );
  }
}

const MIX = `CASE WHEN id % 100 < 80 THEN 'completed' WHEN id % 100 < 85 THEN 'discarded'
  WHEN id % 100 < 88 THEN 'cancelled' WHEN id % 100 < 92 THEN 'retryable'
  WHEN id % 100 < 93 THEN 'running' ELSE state END`;

describe("dashboard plans: SQLite, 30k unanalyzed rows", () => {
  let store: Store;
  let raw: SqliteRaw;
  let top = 0;
  let cleanup: () => Promise<void> = async () => {};
  const plan = (sql: string, args: unknown[]): string[] =>
    (raw.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(args as never[])) as Array<{ detail: string }>).map(
      (r) => r.detail,
    );
  const noFullScan = (what: string, lines: string[]) =>
    assert.ok(
      !lines.some((d) => /^SCAN tend_jobs$/.test(d)),
      `${what} scans the table: ${lines.join(" | ")}`,
    );

  before(async () => {
    const tmp = await makeTempDir("tend-plans-");
    store = await openStore(`sqlite:${join(tmp.dir, "plans.db")}`);
    cleanup = async () => {
      await store.close();
      await tmp.cleanup();
    };
    const r = rawConnection(store);
    if (r.driver !== "sqlite") throw new Error("expected SQLite");
    raw = r;
    await load(store);
    const now = Date.now();
    raw.db
      .prepare(
        `UPDATE tend_jobs SET state = ${MIX},
           finished_at = CASE WHEN id % 100 < 88 THEN ? END,
           lease_expires_at = CASE WHEN id % 100 = 92 THEN ? END`,
      )
      .run(now, now + 60_000);
    top = Number((raw.db.prepare("SELECT max(id) AS m FROM tend_jobs").get() as { m: number }).m);
    const analyzed = raw.db.prepare("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'").get();
    assert.equal(analyzed, undefined, "the table was never analyzed");
  });
  after(() => cleanup());

  it("lists read the primary key or a partial index, never the whole table", () => {
    for (const [what, filter] of lists(top)) {
      const { sql, args } = listSql("tend_jobs", filter);
      const lines = plan(sql, args);
      if (filter.beforeId === undefined && filter.fromId === undefined) {
        // The newest page walks the rowid b-tree from its end and stops at the limit: no sort.
        assert.deepEqual(lines, ["SCAN tend_jobs"], what);
      } else {
        // An id range (the cursor, the page's window), or a partial index of the state asked for
        // (then the sort is over that state's rows of the window only).
        noFullScan(what, lines);
        assert.ok(
          lines.some((d) => /USING (INTEGER PRIMARY KEY|(COVERING )?INDEX tend_jobs_\w+_idx)/.test(d)),
          `${what}: ${lines.join(" | ")}`,
        );
      }
    }
  });

  it("a job is read by its id", () => {
    assert.deepEqual(plan(getJobSql("tend_jobs"), [42]), [
      "SEARCH tend_jobs USING INTEGER PRIMARY KEY (rowid=?)",
    ]);
  });

  it("the overview's statistics read indexes only", () => {
    const s = statsStatements("tend_jobs");
    const now = Date.now();
    const expected: Record<keyof typeof s, [unknown[], RegExp]> = {
      pending: [[now], /USING INDEX tend_jobs_claim_idx/],
      retrying: [[now], /USING COVERING INDEX tend_jobs_retryable_idx/],
      running: [[], /USING INDEX tend_jobs_running_idx/],
      waiting: [[], /USING COVERING INDEX tend_jobs_waiting_idx/],
      finished: [[now - 60_000], /USING INDEX tend_jobs_finished_idx/],
      enqueued: [[top - 10, now - 60_000], /USING INTEGER PRIMARY KEY \(rowid>\?\)/],
      lowest: [[], /^SEARCH tend_jobs$/],
      highest: [[], /^SEARCH tend_jobs$/],
      probe: [[top - 10], /USING INTEGER PRIMARY KEY \(rowid>\?\)/],
    };
    for (const [part, [args, pattern]] of Object.entries(expected)) {
      const lines = plan(s[part as keyof typeof s], args);
      noFullScan(part, lines);
      assert.ok(
        lines.some((d) => pattern.test(d)),
        `${part}: ${pattern} not in ${lines.join(" | ")}`,
      );
    }
  });

  it("the last hour's activity reads the finished index and an id range", () => {
    const a = activitySql("tend_jobs");
    const finished = plan(a.finished, [Date.now() - 3_600_000, 20_000]);
    noFullScan("finished", finished);
    assert.ok(
      finished.some((d) => d.includes("USING INDEX tend_jobs_finished_idx")),
      finished.join(" | "),
    );
    const enqueued = plan(a.enqueued, [top - 100, 20_000]);
    assert.ok(
      enqueued.some((d) => d.includes("USING INTEGER PRIMARY KEY (rowid>?)")),
      enqueued.join(" | "),
    );
  });

  it("bulk counts read the partial index of their states", () => {
    for (const [action, filter] of BULK) {
      for (const { sql, args } of bulkCountSql("tend_jobs", action, filter, "tend_job_deps")) {
        const lines = plan(sql, args);
        noFullScan(`${action} ${JSON.stringify(filter)}`, lines);
        assert.ok(
          lines.some((d) =>
            /USING (COVERING )?INDEX tend_jobs_(claim|finished)_idx|USING INTEGER PRIMARY KEY \(rowid=\?\)/.test(
              d,
            ),
          ),
          `${action} ${JSON.stringify(filter)}: ${lines.join(" | ")}`,
        );
      }
    }
  });

  it("the statistics are right on this table", async () => {
    const stats = await store.jobs.stats();
    const sum = (k: "available" | "scheduled" | "retryable" | "running") =>
      stats.reduce((n, s) => n + s[k], 0);
    const count = (where: string) =>
      Number((raw.db.prepare(`SELECT count(*) AS n FROM tend_jobs WHERE ${where}`).get() as { n: number }).n);
    const now = Date.now();
    assert.equal(sum("running"), count("state = 'running'"));
    assert.equal(sum("retryable"), count(`state = 'retryable' AND run_at > ${now}`));
    assert.equal(
      sum("available") + sum("scheduled") + sum("retryable"),
      count("state IN ('available', 'scheduled', 'retryable')"),
    );
    assert.equal(sum("scheduled"), count(`state = 'scheduled' AND run_at > ${now}`));
  });
});

const pgAvailable = await requirePostgres();

describe(
  "dashboard plans: PostgreSQL, 30k unanalyzed rows",
  { skip: pgAvailable ? false : "PostgreSQL unreachable (TEND_SKIP_POSTGRES=1)" },
  () => {
    let db: TestDatabase;
    let admin: pg.Client;
    let store: Store;
    let ctx: PgContext;
    let top = 0;
    const plan = async (sql: string, values: unknown[]): Promise<string> => {
      const { rows } = await admin.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, values);
      return JSON.stringify(rows[0]?.["QUERY PLAN"]);
    };
    /** Fails when any node of the plan is a sequential scan of the jobs table. */
    const noSeqScan = (what: string, p: string) => {
      const seqOnJobs = (n: unknown): boolean => {
        if (n === null || typeof n !== "object") return false;
        const node = n as Record<string, unknown>;
        if (node["Node Type"] === "Seq Scan" && node["Relation Name"] === "jobs") return true;
        return Object.values(node).some((v) => (Array.isArray(v) ? v.some(seqOnJobs) : seqOnJobs(v)));
      };
      assert.ok(!seqOnJobs(JSON.parse(p)), `${what} scans the jobs table: ${p}`);
    };

    before(async () => {
      db = await createTestDatabase();
      admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      store = await openStore(db.url, { schema: "plans" });
      await admin.query(`ALTER TABLE plans.jobs SET (autovacuum_enabled = false)`);
      await load(store);
      await admin.query(
        `UPDATE plans.jobs SET state = ${MIX},
           finished_at = CASE WHEN id % 100 < 88 THEN now() END,
           lease_expires_at = CASE WHEN id % 100 = 92 THEN now() + interval '1 minute' END`,
      );
      const { rows } = await admin.query<{ m: string; analyzed: boolean }>(
        `SELECT (SELECT max(id) FROM plans.jobs)::text AS m,
           (s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL) AS analyzed
         FROM pg_stat_user_tables s WHERE s.relid = 'plans.jobs'::regclass`,
      );
      assert.equal(rows[0]?.analyzed, false, "the table was never analyzed");
      top = Number(rows[0]?.m);
      const raw = rawConnection(store);
      ctx = createContext(raw.driver === "postgres" ? raw.pool : assert.fail(), "plans", () => false, 10_000);
    });
    after(async () => {
      await store?.close();
      await admin?.end();
      await db?.drop();
    });

    it("lists read the primary key, never the whole table", async () => {
      for (const [what, filter] of lists(top)) {
        const { sql, values } = pgListSql(ctx, filter);
        const p = await plan(sql, values);
        noSeqScan(what, p);
        // The primary key (the cursor, the page's window), or a partial index of the state asked for.
        assert.match(p, /"Index Name":"jobs_(pkey|\w+_idx)"/, `${what} reads an index: ${p}`);
        if (filter.fromId === undefined)
          assert.doesNotMatch(p, /"Node Type":"Sort"/, `${what} is read in key order: ${p}`);
      }
    });

    it("a job is read by its id", async () => {
      const p = await plan(pgGetJobSql(ctx), ["42"]);
      noSeqScan("detail", p);
      assert.match(p, /"Index Name":"jobs_pkey"/);
    });

    it("the overview's statistics read indexes only", async () => {
      const bounds = await plan(recentBoundarySql(ctx), []);
      noSeqScan("stats bounds", bounds);
      const p = await plan(statsSql(ctx), [String(top - 10), String(top)]);
      noSeqScan("stats", p);
      for (const index of [
        "jobs_claim_idx",
        "jobs_retryable_idx",
        "jobs_running_idx",
        "jobs_finished_idx",
        "jobs_pkey",
      ])
        assert.match(p, new RegExp(`"Index Name":"${index}"`), `stats reads ${index}: ${p}`);
    });

    it("the last hour's activity reads the finished index and the primary key", async () => {
      const a = pgActivitySql(ctx);
      const hourAgo = new Date(Date.now() - 3_600_000);
      const first = await plan(a.firstId, [hourAgo]);
      noSeqScan("first id", first);
      const enqueued = await plan(a.enqueued, [String(top - 100), String(top), 20_000]);
      noSeqScan("enqueued", enqueued);
      assert.match(enqueued, /"Index Name":"jobs_pkey"/);
      const finished = await plan(a.finished, [hourAgo, 20_000]);
      noSeqScan("finished", finished);
      assert.match(finished, /"Index Name":"jobs_finished_idx"/);
    });

    it("bulk counts read the partial index of their states", async () => {
      for (const [action, filter] of BULK) {
        const q = pgBulkCountSql(ctx, action, filter);
        assert.ok(q !== null);
        const p = await plan(q.sql, q.values);
        noSeqScan(`${action} ${JSON.stringify(filter)}`, p);
        assert.match(
          p,
          /"Index Name":"jobs_(claim|finished)_idx"|"Index Name":"jobs_pkey"/,
          `${action}: ${p}`,
        );
      }
    });

    it("the statistics are right on this table", async () => {
      const stats = await store.jobs.stats();
      const sum = (k: "available" | "scheduled" | "retryable" | "running") =>
        stats.reduce((n, s) => n + s[k], 0);
      const { rows } = await admin.query<Record<string, number>>(
        `SELECT count(*) FILTER (WHERE state = 'running')::int AS running,
                count(*) FILTER (WHERE state = 'retryable' AND run_at > now())::int AS retryable,
                count(*) FILTER (WHERE state = 'scheduled' AND run_at > now())::int AS scheduled,
                count(*) FILTER (WHERE state IN ('available', 'scheduled', 'retryable'))::int AS pending
         FROM plans.jobs`,
      );
      const exact = rows[0]!;
      assert.equal(sum("running"), exact["running"]);
      assert.equal(sum("retryable"), exact["retryable"]);
      assert.equal(sum("scheduled"), exact["scheduled"]);
      assert.equal(sum("available") + sum("scheduled") + sum("retryable"), exact["pending"]);
    });
  },
);
