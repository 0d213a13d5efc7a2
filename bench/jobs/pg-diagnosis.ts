/**
 * What one processing run does inside PostgreSQL, for diagnosis on a private cluster with
 * pg_stat_statements (bench/jobs/private-cluster.ts): WAL written, statements by total time (with
 * their WAL and buffer hits), round trips, NOTIFYs, table and index activity, index growth, and
 * what the run's backends were waiting on (pg_stat_activity and pg_locks sampled every 10 ms).
 */
import pg from "pg";
import { nowMs } from "./clock.ts";
import type { BenchDatabase } from "./databases.ts";
import { queryOnce } from "./pg-admin.ts";
import type { RunHooks } from "./runs.ts";

export interface StatementStat {
  query: string;
  toplevel: boolean;
  calls: number;
  rows: number;
  totalMs: number;
  walBytes: number;
  blocks: number;
}

export interface RelationStat {
  name: string;
  scans: number;
  tuplesRead: number;
  bytesGrown: number;
}

export interface PgDiagnosis {
  fromMs: number;
  toMs: number;
  walBytes: number;
  statements: StatementStat[];
  /** Tables: updates, HOT updates, inserts, deletes. */
  tables: Array<{ name: string; ins: number; upd: number; hotUpd: number; del: number; seqScans: number }>;
  indexes: RelationStat[];
  /** Samples of the run's backends: "state / wait_event_type:wait_event" -> count. */
  waits: Map<string, number>;
  samples: number;
  /** Samples in which some backend of the run waited for a lock (pg_locks, not granted). */
  lockWaitSamples: number;
  /** Notifications delivered on the system's channels during the run, by channel. */
  notifications: Map<string, number>;
}

/** The LISTEN/NOTIFY channels each system's workers listen on (pg-boss's is derived from its schema). */
export const CHANNELS: Record<string, string[]> = {
  tend: ["tend.jobs", "tend.cancel", "tend.batch"],
  graphile: ["jobs:insert", "worker:migrate"],
  pgboss: ["pgboss_$sha224"],
};

const toNumber = (v: unknown): number => Number(v ?? 0);

/**
 * Hooks for `processRun` that fill `out` (the caller reads it after the run). `adminUrl` is the
 * cluster's `postgres` database, where pg_stat_statements is installed and the sampler runs.
 */
export function pgDiagnosisHooks(
  adminUrl: string,
  out: Partial<PgDiagnosis>,
  channels: readonly string[],
): RunHooks {
  let listener: pg.Client | null = null;
  let sampler: {
    stop(): Promise<{ waits: Map<string, number>; samples: number; lockWaits: number }>;
  } | null = null;
  let lsn0 = "";
  let sizes0 = new Map<string, number>();
  const indexSizes = async (db: BenchDatabase): Promise<Map<string, number>> =>
    new Map(
      (
        await queryOnce<{ name: string; bytes: string }>(
          db.url,
          `SELECT schemaname || '.' || indexrelname AS name, pg_relation_size(indexrelid) AS bytes
             FROM pg_stat_user_indexes`,
        )
      ).map((r) => [r.name, Number(r.bytes)]),
    );
  return {
    async beforeWork(db) {
      await queryOnce(db.url, "SELECT pg_stat_reset()");
      await queryOnce(adminUrl, "SELECT pg_stat_statements_reset()");
      sizes0 = await indexSizes(db);
      lsn0 = (await queryOnce<{ lsn: string }>(adminUrl, "SELECT pg_current_wal_lsn()::text AS lsn"))[0]!.lsn;
      sampler = await startSampler(adminUrl, db.name);
      listener = new pg.Client({ connectionString: db.url });
      listener.on("error", () => {});
      await listener.connect();
      const counts = new Map<string, number>();
      out.notifications = counts;
      for (const pattern of channels) {
        const channel = pattern.endsWith("$sha224")
          ? (
              await listener.query<{ c: string }>(
                "SELECT 'pgboss_' || left(encode(sha224('pgboss'::bytea), 'hex'), 24) AS c",
              )
            ).rows[0]!.c
          : pattern;
        await listener.query(`LISTEN "${channel}"`);
      }
      listener.on("notification", (n) => counts.set(n.channel, (counts.get(n.channel) ?? 0) + 1));
      out.fromMs = nowMs();
    },
    async afterDone(db) {
      out.toMs = nowMs();
      // Notifications are delivered between the listener's own queries: one round trip flushes them.
      await listener!.query("SELECT 1");
      await listener!.end();
      const s = await sampler!.stop();
      out.waits = s.waits;
      out.samples = s.samples;
      out.lockWaitSamples = s.lockWaits;
      out.walBytes = Number(
        (
          await queryOnce<{ bytes: string }>(
            adminUrl,
            `SELECT pg_current_wal_lsn() - '${lsn0}'::pg_lsn AS bytes`,
          )
        )[0]!.bytes,
      );
      out.statements = (
        await queryOnce<Record<string, unknown>>(
          adminUrl,
          `SELECT s.query, s.toplevel, s.calls, s.rows, s.total_exec_time + s.total_plan_time AS total_ms,
                  s.wal_bytes, s.shared_blks_hit + s.shared_blks_read AS blocks
             FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
            WHERE d.datname = '${db.name}'
            ORDER BY total_ms DESC`,
        )
      ).map((r) => ({
        query: String(r["query"]).replace(/\s+/g, " "),
        toplevel: r["toplevel"] === true,
        calls: toNumber(r["calls"]),
        rows: toNumber(r["rows"]),
        totalMs: toNumber(r["total_ms"]),
        walBytes: toNumber(r["wal_bytes"]),
        blocks: toNumber(r["blocks"]),
      }));
      const sizes1 = await indexSizes(db);
      out.indexes = [...sizes1.entries()].map(([name, bytes]) => ({
        name,
        scans: 0,
        tuplesRead: 0,
        bytesGrown: bytes - (sizes0.get(name) ?? 0),
      }));
    },
    // Table and index counters are flushed by backends as they exit: read them after the workers closed.
    async afterClose(db) {
      const tables = await queryOnce<Record<string, unknown>>(
        db.url,
        `SELECT schemaname || '.' || relname AS name, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, seq_scan
           FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del + seq_scan > 0`,
      );
      out.tables = tables.map((r) => ({
        name: String(r["name"]),
        ins: toNumber(r["n_tup_ins"]),
        upd: toNumber(r["n_tup_upd"]),
        hotUpd: toNumber(r["n_tup_hot_upd"]),
        del: toNumber(r["n_tup_del"]),
        seqScans: toNumber(r["seq_scan"]),
      }));
      const indexes = await queryOnce<Record<string, unknown>>(
        db.url,
        `SELECT schemaname || '.' || indexrelname AS name, idx_scan, idx_tup_read FROM pg_stat_user_indexes`,
      );
      for (const r of indexes) {
        const entry = out.indexes?.find((i) => i.name === r["name"]);
        if (entry !== undefined) {
          entry.scans = toNumber(r["idx_scan"]);
          entry.tuplesRead = toNumber(r["idx_tup_read"]);
        }
      }
    },
  };
}

/** Samples the run's backends every 10 ms on its own connection until stopped. */
async function startSampler(adminUrl: string, database: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on("error", () => {});
  await client.connect();
  const waits = new Map<string, number>();
  let samples = 0;
  let lockWaits = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ w: string; n: number; locks: number }>(
        `SELECT a.state || ' / ' || coalesce(a.wait_event_type || ':' || a.wait_event, 'on CPU')
                  || CASE WHEN a.state = 'active'
                       THEN ' / ' || left(regexp_replace(a.query, '\\s+', ' ', 'g'), 28) ELSE '' END AS w,
                count(*)::int AS n,
                (SELECT count(*)::int FROM pg_locks l WHERE NOT l.granted
                   AND l.pid IN (SELECT pid FROM pg_stat_activity WHERE datname = $1)) AS locks
           FROM pg_stat_activity a WHERE a.datname = $1 GROUP BY 1`,
        [database],
      );
      samples++;
      if ((rows[0]?.locks ?? 0) > 0) lockWaits++;
      for (const r of rows) waits.set(r.w, (waits.get(r.w) ?? 0) + r.n);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await client.end();
      return { waits, samples, lockWaits };
    },
  };
}
