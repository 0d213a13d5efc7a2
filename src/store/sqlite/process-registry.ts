import type { ProcessHeartbeat, ProcessRecord, ProcessRegistry } from "../process-model.ts";
import type { SqliteContext } from "./context.ts";
import type { Row } from "./rows.ts";

/** Rows whose lease ended over an hour ago are deleted at reads. */
const FORGET_AFTER_MS = 3_600_000;

function toRecord(row: Row, now: number): ProcessRecord {
  const expires = Number(row["expires_at"]);
  return {
    id: String(row["id"]),
    host: String(row["host"]),
    pid: Number(row["pid"]),
    program: String(row["program"]),
    version: String(row["version"]),
    masterPid: row["master_pid"] === null ? null : Number(row["master_pid"]),
    restarts: row["restarts"] === null || row["restarts"] === undefined ? null : Number(row["restarts"]),
    queues: JSON.parse(String(row["queues"])) as string[],
    concurrency: Number(row["concurrency"]),
    inFlight: Number(row["in_flight"]),
    rssBytes: Number(row["rss_bytes"]),
    heapUsedBytes: Number(row["heap_used_bytes"]),
    startedAt: new Date(Number(row["started_at"])),
    heartbeatAt: new Date(Number(row["heartbeat_at"])),
    expiresAt: new Date(expires),
    alive: expires > now,
  };
}

/**
 * The processes registry on SQLite (`<prefix>processes`), timed by the machine's clock (every
 * process of an SQLite file runs on one machine). Heartbeats are relaxed writes: one lost to a
 * power cut is rewritten at the next beat.
 *
 * @example
 * ```ts
 * const registry = new SqliteProcessRegistry(ctx, "tend_");
 * await registry.heartbeat(beat, 30_000);
 * ```
 */
export class SqliteProcessRegistry implements ProcessRegistry {
  readonly #ctx: SqliteContext;
  readonly #table: string;

  constructor(ctx: SqliteContext, prefix: string) {
    this.#ctx = ctx;
    this.#table = `"${prefix}processes"`;
  }

  async heartbeat(p: ProcessHeartbeat, leaseMs: number): Promise<void> {
    const ctx = this.#ctx;
    const upsert = ctx.stmt(
      `INSERT INTO ${this.#table} (id, host, pid, program, version, master_pid, queues, concurrency,
         in_flight, rss_bytes, heap_used_bytes, started_at, heartbeat_at, expires_at, restarts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         program = excluded.program, version = excluded.version, master_pid = excluded.master_pid,
         queues = excluded.queues, concurrency = excluded.concurrency, in_flight = excluded.in_flight,
         rss_bytes = excluded.rss_bytes,
         heap_used_bytes = excluded.heap_used_bytes, heartbeat_at = excluded.heartbeat_at,
         expires_at = excluded.expires_at, restarts = excluded.restarts`,
    );
    await ctx.write(() => {
      const now = ctx.now();
      upsert.run(
        p.id,
        p.host,
        p.pid,
        p.program,
        p.version,
        p.masterPid,
        JSON.stringify(p.queues),
        p.concurrency,
        p.inFlight,
        p.rssBytes,
        p.heapUsedBytes,
        now,
        now,
        now + leaseMs,
        p.restarts,
      );
    }, true);
  }

  async list(): Promise<ProcessRecord[]> {
    const ctx = this.#ctx;
    const forget = ctx.stmt(`DELETE FROM ${this.#table} WHERE expires_at < ?`);
    const select = ctx.stmt(`SELECT * FROM ${this.#table} ORDER BY host, pid, id`);
    return await ctx.write(() => {
      const now = ctx.now();
      forget.run(now - FORGET_AFTER_MS);
      return (select.all() as Row[]).map((row) => toRecord(row, now));
    }, true);
  }

  async remove(id: string): Promise<void> {
    const ctx = this.#ctx;
    const remove = ctx.stmt(`DELETE FROM ${this.#table} WHERE id = ?`);
    await ctx.write(() => {
      remove.run(id);
    });
  }
}
