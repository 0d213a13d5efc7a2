import type { Pool, PoolClient } from "pg";
import type {
  Fence,
  Inconsistency,
  InconsistencyFilter,
  LeaseAttempt,
  LeaseRecord,
  TerminalKey,
  Wake,
  WakeListener,
  WakeTable,
} from "../converge-model.ts";
import { SWEEP_REQUEST_TABLE } from "../converge-model.ts";
import type { ConvergeStore } from "../converge-store.ts";
import { decideLease } from "../lease.ts";
import type { Notifier } from "../notifier.ts";
import type { PostgresRaw } from "../raw.ts";
import type { UserDatabase } from "../user-database.ts";
import { PostgresUserDatabase } from "./converge-sql.ts";
import { quoteIdent } from "./identifiers.ts";
import { inPooledTransaction } from "./pool.ts";
import { physicalChannel } from "./notifier.ts";

/** The logical notification channel of wake-ups (`<schema>.converge` on the wire). */
export const WAKE_CHANNEL = "converge";

const MS = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;

/**
 * The converge part's storage on PostgreSQL: tables `<schema>.converge_*`, leases decided by
 * `decideLease` inside a row-locking transaction on the server clock, fenced inserts, and
 * wake-up triggers (`<schema>.converge_wake()`) that pg_notify at commit, heard through the
 * store's Notifier (which re-LISTENs after a reconnect and tells us, so we sweep).
 *
 * @example
 * ```ts
 * const converge = new PostgresConvergeStore(raw, store.notifier);
 * ```
 */
export class PostgresConvergeStore implements ConvergeStore {
  readonly driver = "postgres" as const;
  readonly access: UserDatabase;
  readonly #pool: Pool;
  readonly #schema: string;
  readonly #notifier: Notifier;
  readonly #t: { leases: string; inconsistencies: string; terminal: string; wake: string };

  constructor(raw: PostgresRaw, notifier: Notifier) {
    this.#pool = raw.pool;
    this.#schema = raw.schema;
    this.#notifier = notifier;
    const s = quoteIdent(raw.schema);
    this.#t = {
      leases: `${s}.converge_leases`,
      inconsistencies: `${s}.converge_inconsistencies`,
      terminal: `${s}.converge_terminal`,
      wake: `${s}.converge_wake`,
    };
    this.access = new PostgresUserDatabase(raw.pool);
  }

  async #inTransaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return inPooledTransaction(this.#pool, fn);
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseAttempt> {
    return this.#inTransaction(async (client) => {
      const { rows } = await client.query<{ holder: string; epoch: string; expires_at: number }>(
        `SELECT holder, epoch, ${MS("expires_at")} AS expires_at FROM ${this.#t.leases} WHERE name = $1 FOR UPDATE`,
        [name],
      );
      const row = rows[0];
      // The clock once the row lock is held: now() is the transaction's start, before any wait for
      // the lock, and a lease decided and dated from it could have lapsed already when granted.
      const now = Number(
        (await client.query<{ now: number }>(`SELECT ${MS("clock_timestamp()")} AS now`)).rows[0]?.now,
      );
      const current =
        row === undefined
          ? null
          : { holder: row.holder, epoch: Number(row.epoch), expiresAt: Number(row.expires_at) };
      const decision = decideLease(current, holder, now, ttlMs);
      if (decision.kind === "wait")
        return { held: false, holder: decision.holder, expiresAt: decision.expiresAt, now };
      if (current === null) {
        const inserted = await client.query(
          `INSERT INTO ${this.#t.leases} (name, holder, epoch, expires_at, acquired_at)
           VALUES ($1, $2, $3, to_timestamp($4::float8 / 1000), clock_timestamp()) ON CONFLICT (name) DO NOTHING`,
          [name, holder, decision.epoch, decision.expiresAt],
        );
        if (inserted.rowCount !== 1) return { held: false, holder: "(another process)", expiresAt: now, now };
      } else {
        await client.query(
          `UPDATE ${this.#t.leases} SET holder = $2, epoch = $3, expires_at = to_timestamp($4::float8 / 1000),
             acquired_at = CASE WHEN epoch = $3 THEN acquired_at ELSE clock_timestamp() END
           WHERE name = $1`,
          [name, holder, decision.epoch, decision.expiresAt],
        );
      }
      return { held: true, epoch: decision.epoch, expiresAt: decision.expiresAt, now };
    });
  }

  async releaseLease(name: string, fence: Fence): Promise<void> {
    await this.#pool.query(
      `UPDATE ${this.#t.leases} SET expires_at = now() WHERE name = $1 AND holder = $2 AND epoch = $3`,
      [name, fence.holder, fence.epoch],
    );
  }

  #fenced(fence: Fence | null): string {
    return fence === null
      ? "$3::text IS NULL AND $4::bigint IS NULL"
      : `EXISTS (SELECT 1 FROM ${this.#t.leases} WHERE name = $1 AND holder = $3 AND epoch = $4 AND expires_at > now())`;
  }

  async recordInconsistencies(
    converger: string,
    records: ReadonlyArray<{ key: string; changes: unknown }>,
    fence: Fence | null,
  ): Promise<boolean> {
    if (records.length === 0) return true;
    const result = await this.#pool.query(
      `INSERT INTO ${this.#t.inconsistencies} (converger, key, changes, holder, epoch)
       SELECT $1, r.key, r.changes, $3, $4 FROM unnest($2::text[], $5::jsonb[]) AS r (key, changes)
       WHERE ${this.#fenced(fence)}`,
      [
        converger,
        records.map((r) => r.key),
        fence?.holder ?? null,
        fence?.epoch ?? null,
        records.map((r) => JSON.stringify(r.changes)),
      ],
    );
    return result.rowCount === records.length;
  }

  async listInconsistencies(filter: InconsistencyFilter): Promise<Inconsistency[]> {
    const { rows } = await this.#pool.query<{
      id: string;
      converger: string;
      key: string;
      changes: unknown;
      holder: string | null;
      epoch: string | null;
      at: Date;
    }>(
      // Ordered by the columns (i.id): a bare `id` would name the output's text id ("9" > "10"),
      // and the inconsistencies of one call share their time.
      `SELECT i.id::text, converger, key, changes, holder, epoch, at FROM ${this.#t.inconsistencies} i
       WHERE ($1::text IS NULL OR converger = $1) AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)
         AND ($5::text IS NULL OR key = $5)
       ORDER BY i.at DESC, i.id DESC LIMIT $4`,
      [
        filter.converger ?? null,
        filter.since ?? null,
        filter.until ?? null,
        filter.limit ?? 100,
        filter.key ?? null,
      ],
    );
    return rows.map((r) => ({ ...r, epoch: r.epoch === null ? null : Number(r.epoch) }));
  }

  async recordTerminal(
    converger: string,
    key: string,
    version: string | null,
    message: string,
    fence: Fence | null,
  ): Promise<boolean> {
    const result = await this.#pool.query(
      `INSERT INTO ${this.#t.terminal} (converger, key, version, message)
       SELECT $1, $2, $5, $6 WHERE ${this.#fenced(fence)}
       ON CONFLICT (converger, key) DO UPDATE SET version = excluded.version, message = excluded.message, at = now()`,
      [converger, key, fence?.holder ?? null, fence?.epoch ?? null, version, message],
    );
    return result.rowCount === 1;
  }

  async clearTerminal(converger: string, key: string | null): Promise<number> {
    const { rowCount } = await this.#pool.query(
      `DELETE FROM ${this.#t.terminal} WHERE converger = $1 AND ($2::text IS NULL OR key = $2)`,
      [converger, key],
    );
    return rowCount ?? 0;
  }

  async listTerminal(converger?: string): Promise<TerminalKey[]> {
    const { rows } = await this.#pool.query<TerminalKey>(
      `SELECT converger, key, version, message, at FROM ${this.#t.terminal}
       WHERE ($1::text IS NULL OR converger = $1) ORDER BY at, converger, key`,
      [converger ?? null],
    );
    return rows;
  }

  async pruneInconsistencies(converger: string | null, olderThan: Date, limit: number): Promise<number> {
    const { rowCount } = await this.#pool.query(
      `DELETE FROM ${this.#t.inconsistencies} WHERE id IN (
         SELECT id FROM ${this.#t.inconsistencies}
         WHERE ($1::text IS NULL OR converger = $1) AND at < $2 ORDER BY at LIMIT $3)`,
      [converger, olderThan, limit],
    );
    return rowCount ?? 0;
  }

  async pruneTerminal(converger: string, olderThan: Date, limit: number): Promise<string[]> {
    const { rows } = await this.#pool.query<{ key: string }>(
      `DELETE FROM ${this.#t.terminal} WHERE converger = $1 AND key IN (
         SELECT key FROM ${this.#t.terminal} WHERE converger = $1 AND at < $2 ORDER BY at LIMIT $3)
       RETURNING key`,
      [converger, olderThan, limit],
    );
    return rows.map((r) => r.key);
  }

  #qualified(table: WakeTable): string {
    return table.schema === null
      ? quoteIdent(table.table)
      : `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;
  }

  async #resolve(table: WakeTable): Promise<{ schema: string; table: string } | null> {
    const { rows } = await this.#pool.query<{ schema: string; table: string }>(
      `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')`,
      [this.#qualified(table)],
    );
    return rows[0] ?? null;
  }

  async tableExists(table: WakeTable): Promise<boolean> {
    return (await this.#resolve(table)) !== null;
  }

  async columnExists(table: WakeTable, column: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT attisdropped",
      [this.#qualified(table), column],
    );
    return rowCount === 1;
  }

  async listLeases(): Promise<LeaseRecord[]> {
    const { rows } = await this.#pool.query<{
      name: string;
      holder: string;
      epoch: string;
      acquired_at: Date;
      expires_at: Date;
      live: boolean;
    }>(
      `SELECT name, holder, epoch::text, acquired_at, expires_at, expires_at > now() AS live
       FROM ${this.#t.leases} ORDER BY name`,
    );
    return rows.map((r) => ({
      name: r.name,
      holder: r.holder,
      epoch: Number(r.epoch),
      acquiredAt: r.acquired_at,
      expiresAt: r.expires_at,
      live: r.live,
    }));
  }

  async requestSweep(converger: string, key: string | null = null): Promise<void> {
    await this.#notifier.notify(
      WAKE_CHANNEL,
      JSON.stringify({ t: SWEEP_REQUEST_TABLE, c: converger, k: key }),
    );
  }

  async installWakeTrigger(table: WakeTable): Promise<string> {
    const resolved = await this.#resolve(table);
    if (resolved === null) throw new Error(`table ${this.#qualified(table)} does not exist`);
    const column = table.key ?? "";
    const trigger = `${this.#schema}_wake_${column === "" ? "all" : column}`;
    const target = `${quoteIdent(resolved.schema)}.${quoteIdent(resolved.table)}`;
    const channel = physicalChannel(this.#schema, WAKE_CHANNEL);
    const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
    await this.#inTransaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('tend.converge.wake-triggers'))");
      const { rowCount } = await client.query(
        "SELECT 1 FROM pg_trigger WHERE tgname = $1 AND tgrelid = to_regclass($2) AND NOT tgisinternal",
        [trigger, target],
      );
      if (rowCount === 1) return;
      await client.query(
        `CREATE OR REPLACE TRIGGER ${quoteIdent(trigger)} AFTER INSERT OR UPDATE OR DELETE ON ${target}
         FOR EACH ROW EXECUTE FUNCTION ${this.#t.wake}(${literal(channel)}, ${literal(column)})`,
      );
    });
    return `${resolved.schema}.${resolved.table}`;
  }

  async listenWakes(
    onWake: (wake: Wake) => void,
    onReconnect: () => void,
    _pollMs: number,
  ): Promise<WakeListener> {
    const stop = await this.#notifier.listen(
      WAKE_CHANNEL,
      (payload) => {
        try {
          const w = JSON.parse(payload) as { t?: unknown; c?: unknown; k?: unknown };
          if (typeof w.t !== "string" || typeof w.c !== "string") return;
          onWake({ table: w.t, column: w.c, key: typeof w.k === "string" ? w.k : null });
        } catch {
          // Not a wake-up payload: ignore it.
        }
      },
      onReconnect,
    );
    return { stop };
  }

  async close(): Promise<void> {}
}
