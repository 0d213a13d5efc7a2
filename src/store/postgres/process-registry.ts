import type { ProcessHeartbeat, ProcessRecord, ProcessRegistry } from "../process-model.ts";
import type { PgContext } from "./context.ts";
import { quoteIdent } from "./identifiers.ts";

interface ProcessRow {
  id: string;
  host: string;
  pid: number;
  program: string;
  version: string;
  master_pid: number | null;
  restarts: number | null;
  queues: string[];
  concurrency: number;
  in_flight: number;
  rss_bytes: string;
  heap_used_bytes: string;
  started_at: Date;
  heartbeat_at: Date;
  expires_at: Date;
  alive: boolean;
}

function toRecord(r: ProcessRow): ProcessRecord {
  return {
    id: r.id,
    host: r.host,
    pid: r.pid,
    program: r.program,
    version: r.version,
    masterPid: r.master_pid,
    restarts: r.restarts,
    queues: r.queues,
    concurrency: r.concurrency,
    inFlight: r.in_flight,
    rssBytes: Number(r.rss_bytes),
    heapUsedBytes: Number(r.heap_used_bytes),
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    expiresAt: r.expires_at,
    alive: r.alive,
  };
}

/**
 * The processes registry on PostgreSQL (`<schema>.processes`). Leases are timed by the database's
 * clock, so processes on machines whose clocks differ agree on who is alive.
 *
 * @example
 * ```ts
 * const registry = new PostgresProcessRegistry(ctx);
 * await registry.heartbeat(beat, 30_000);
 * ```
 */
export class PostgresProcessRegistry implements ProcessRegistry {
  readonly #ctx: PgContext;
  readonly #table: string;

  constructor(ctx: PgContext) {
    this.#ctx = ctx;
    this.#table = `${quoteIdent(ctx.schema)}.processes`;
  }

  async heartbeat(p: ProcessHeartbeat, leaseMs: number): Promise<void> {
    await this.#ctx.pool.query(
      `INSERT INTO ${this.#table} (id, host, pid, program, version, master_pid, queues, concurrency,
         in_flight, rss_bytes, heap_used_bytes, expires_at, restarts)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11,
         now() + $12 * interval '1 millisecond', $13)
       ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,
         program = EXCLUDED.program, version = EXCLUDED.version, master_pid = EXCLUDED.master_pid,
         queues = EXCLUDED.queues, concurrency = EXCLUDED.concurrency, in_flight = EXCLUDED.in_flight,
         rss_bytes = EXCLUDED.rss_bytes,
         heap_used_bytes = EXCLUDED.heap_used_bytes, heartbeat_at = now(),
         expires_at = EXCLUDED.expires_at, restarts = EXCLUDED.restarts`,
      [
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
        leaseMs,
        p.restarts,
      ],
    );
  }

  async list(): Promise<ProcessRecord[]> {
    await this.#ctx.pool.query(`DELETE FROM ${this.#table} WHERE expires_at < now() - interval '1 hour'`);
    const { rows } = await this.#ctx.pool.query<ProcessRow>(
      `SELECT *, expires_at > now() AS alive FROM ${this.#table} ORDER BY host, pid, id`,
    );
    return rows.map(toRecord);
  }

  async remove(id: string): Promise<void> {
    await this.#ctx.pool.query(`DELETE FROM ${this.#table} WHERE id = $1`, [id]);
  }
}
