import type pg from "pg";
import type { FleetStore, MasterRecord } from "../fleet.ts";
import { quoteIdent } from "./identifiers.ts";

interface MasterRow {
  id: string;
  host: string;
  pid: number;
  program: string;
  min: number;
  max: number;
  desired: number;
  workers: MasterRecord["workers"];
  started_at: Date;
  heartbeat_at: Date;
  expires_at: Date;
  alive: boolean;
}

/**
 * The fleet table on PostgreSQL. Leases are timed by the database's clock, so masters on
 * machines whose clocks differ agree on who is alive.
 *
 * @example
 * ```ts
 * const fleet = new PostgresFleetStore(pool, "tend");
 * await fleet.heartbeat({ id, host, pid, program, min: 1, max: 4, desired: 2, workers: [] }, 10_000);
 * ```
 */
export class PostgresFleetStore implements FleetStore {
  readonly #pool: pg.Pool;
  readonly #table: string;

  constructor(pool: pg.Pool, schema: string) {
    this.#pool = pool;
    this.#table = `${quoteIdent(schema)}.masters`;
  }

  async heartbeat(
    m: Omit<MasterRecord, "startedAt" | "heartbeatAt" | "expiresAt">,
    leaseMs: number,
  ): Promise<void> {
    await this.#pool.query(
      `INSERT INTO ${this.#table} (id, host, pid, program, min, max, desired, workers, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, now() + $9 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET desired = EXCLUDED.desired, workers = EXCLUDED.workers,
         min = EXCLUDED.min, max = EXCLUDED.max, heartbeat_at = now(), expires_at = EXCLUDED.expires_at`,
      [m.id, m.host, m.pid, m.program, m.min, m.max, m.desired, JSON.stringify(m.workers), leaseMs],
    );
  }

  async masters(): Promise<Array<MasterRecord & { alive: boolean }>> {
    await this.#pool.query(`DELETE FROM ${this.#table} WHERE expires_at < now() - interval '1 hour'`);
    const { rows } = await this.#pool.query<MasterRow>(
      `SELECT *, expires_at > now() AS alive FROM ${this.#table} ORDER BY id`,
    );
    return rows.map((r) => ({
      id: r.id,
      host: r.host,
      pid: r.pid,
      program: r.program,
      min: r.min,
      max: r.max,
      desired: r.desired,
      workers: r.workers,
      startedAt: r.started_at,
      heartbeatAt: r.heartbeat_at,
      expiresAt: r.expires_at,
      alive: r.alive,
    }));
  }

  async remove(id: string): Promise<void> {
    await this.#pool.query(`DELETE FROM ${this.#table} WHERE id = $1`, [id]);
  }
}
