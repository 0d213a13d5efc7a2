/**
 * The systems the jobs benchmark compares, as the harness sees them: which module a child opens,
 * with which options when the total concurrency and claim-ahead are split over k processes, and
 * how the harness reads from the database how many jobs are done (without loading the system).
 */
import type { SystemOptions } from "./systems/system.ts";

export type Driver = "postgres" | "sqlite";

/** How the harness counts finished jobs: rows in a finished state, or rows left (systems that delete). */
export interface DoneQuery {
  sql: string;
  counts: "completed" | "remaining";
}

export interface SystemSpec {
  /** Column name in the tables. */
  name: string;
  module: "tend" | "graphile" | "pgboss" | "plainjob" | "liteque";
  driver: Driver;
  /** Appended to the database URL (tend's SQLite durability). */
  urlSuffix?: string;
  /** One line for the configuration list printed with the tables. */
  describe: string;
  /** Options of process `index` of `processes`, sharing the total concurrency and claim-ahead. */
  options(processes: number, index: number): SystemOptions;
  /** The table ANALYZE runs on (PostgreSQL). */
  analyzeTable?: string;
  done: DoneQuery;
}

/** The bench's total concurrency, per system, over all its worker processes. */
export const CONCURRENCY = 50;
/** Claim-ahead of the tuned configurations, in total: tend's prefetch and graphile-worker's local queue. */
const CLAIM_AHEAD = 500;

/** `total` split into `parts` integers that differ by at most one, the larger first. */
export function splitEven(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

const share = (total: number, processes: number, index: number): number =>
  splitEven(total, processes)[index]!;

const tendPostgresDone: DoneQuery = {
  sql: "SELECT count(*)::int AS n FROM tend.jobs WHERE state = 'completed'",
  counts: "completed",
};

export const TEND_TUNED: SystemSpec = {
  name: "tend-postgres",
  module: "tend",
  driver: "postgres",
  describe: `tend-postgres: Jobs { concurrency: ${CONCURRENCY}, prefetch: ${CLAIM_AHEAD} } (prefetch is tend's documented setting for many short jobs); pool, lease and poll at their defaults`,
  options: (k, i) => ({ concurrency: share(CONCURRENCY, k, i), prefetch: share(CLAIM_AHEAD, k, i) }),
  analyzeTable: "tend.jobs",
  done: tendPostgresDone,
};

export const TEND_DEFAULTS: SystemSpec = {
  ...TEND_TUNED,
  name: "tend-postgres (defaults)",
  describe: `tend-postgres (defaults): Jobs { concurrency: ${CONCURRENCY} } and nothing else (prefetch unset: adaptive claim-ahead)`,
  options: (k, i) => ({ concurrency: share(CONCURRENCY, k, i) }),
};

const { analyzeTable: _analyzed, ...tendTunedUnanalyzed } = TEND_TUNED;
export const TEND_UNANALYZED: SystemSpec = {
  ...tendTunedUnanalyzed,
  name: "tend-postgres (unanalyzed)",
  describe: "tend-postgres (unanalyzed): the tuned configuration on a job table never ANALYZEd",
};

export const TEND_OBSERVED: SystemSpec = {
  ...TEND_TUNED,
  name: "tend-postgres (observed)",
  describe:
    "tend-postgres (observed): the tuned configuration with job metrics on a prom-client registry, spans through @opentelemetry/api with no SDK registered, and an onError hook",
  options: (k, i) => ({ ...TEND_TUNED.options(k, i), observe: "on" }),
};

export const TEND_OBSERVED_SDK: SystemSpec = {
  ...TEND_TUNED,
  name: "tend-postgres (observed, OTel SDK)",
  describe:
    "tend-postgres (observed, OTel SDK): as observed, with the OpenTelemetry SDK registered (BasicTracerProvider, BatchSpanProcessor at its defaults, an exporter that drops the spans)",
  options: (k, i) => ({ ...TEND_TUNED.options(k, i), observe: "sdk" }),
};

export const GRAPHILE: SystemSpec = {
  name: "graphile-worker",
  module: "graphile",
  driver: "postgres",
  describe: `graphile-worker 0.18: its performance page's settings (worker.graphile.org/docs/performance): localQueue { size: ${CLAIM_AHEAD} }, completeJobBatchDelay 0, failJobBatchDelay 0, maxPoolSize concurrency + 1; concurrentJobs ${CONCURRENCY}`,
  options: (k, i) => ({ concurrency: share(CONCURRENCY, k, i), localQueueSize: share(CLAIM_AHEAD, k, i) }),
  analyzeTable: "graphile_worker._private_jobs",
  done: { sql: "SELECT count(*)::int AS n FROM graphile_worker._private_jobs", counts: "remaining" },
};

export const PGBOSS: SystemSpec = {
  name: "pg-boss",
  module: "pgboss",
  driver: "postgres",
  describe: `pg-boss 12: useListenNotify, queue { notify: true }, work() { batchSize: ${CONCURRENCY}, burstWhenBatchFull: true } (its docs' LISTEN/NOTIFY and burst settings), the batch's jobs run concurrently`,
  options: (k, i) => ({ batchSize: share(CONCURRENCY, k, i) }),
  analyzeTable: "pgboss.job",
  done: {
    sql: "SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'bench' AND state = 'completed'",
    counts: "completed",
  },
};

const tendSqliteDone: DoneQuery = {
  sql: "SELECT count(*) AS n FROM tend_jobs WHERE state = 'completed'",
  counts: "completed",
};

export const TEND_SQLITE_FULL: SystemSpec = {
  name: "tend-sqlite (FULL)",
  module: "tend",
  driver: "sqlite",
  describe: `tend-sqlite (FULL): its default synchronous=FULL (a commit is on disk before it is acknowledged); Jobs { concurrency: ${CONCURRENCY}, prefetch: ${CLAIM_AHEAD} }`,
  options: TEND_TUNED.options,
  done: tendSqliteDone,
};

export const TEND_SQLITE_NORMAL: SystemSpec = {
  ...TEND_SQLITE_FULL,
  name: "tend-sqlite (NORMAL)",
  urlSuffix: "?synchronous=normal",
  describe:
    "tend-sqlite (NORMAL): the URL's ?synchronous=normal, the durability plainjob and liteque run at (WAL, synchronous NORMAL: a power loss may drop the last commits)",
};

export const TEND_SQLITE_DEFAULTS: SystemSpec = {
  ...TEND_SQLITE_FULL,
  name: "tend-sqlite (FULL, defaults)",
  describe: `tend-sqlite (FULL, defaults): Jobs { concurrency: ${CONCURRENCY} } and nothing else`,
  options: TEND_DEFAULTS.options,
};

export const PLAINJOB: SystemSpec = {
  name: "plainjob",
  module: "plainjob",
  driver: "sqlite",
  describe:
    "plainjob 0.0.14 on better-sqlite3: its README's setup; it sets WAL and synchronous=1 (NORMAL); a worker runs one job at a time (no concurrency option)",
  options: () => ({}),
  done: { sql: "SELECT count(*) AS n FROM plainjob_jobs WHERE status = 2", counts: "completed" },
};

export const LITEQUE: SystemSpec = {
  name: "liteque",
  module: "liteque",
  driver: "sqlite",
  describe: `liteque 0.8 on better-sqlite3: its README's setup (Runner { concurrency: ${CONCURRENCY}, pollIntervalMs: 1000, timeoutSecs: 60 }); it sets WAL and synchronous=NORMAL; no bulk enqueue (one enqueue() a job)`,
  options: (k, i) => ({ concurrency: share(CONCURRENCY, k, i), pollIntervalMs: 1000 }),
  done: { sql: "SELECT count(*) AS n FROM tasks", counts: "remaining" },
};
