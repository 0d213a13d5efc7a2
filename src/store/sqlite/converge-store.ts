import type { DatabaseSync } from "node:sqlite";
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
import type { SqliteRaw } from "../raw.ts";
import type { UserDatabase } from "../user-database.ts";
import { type FileLock, fileLock } from "./converge-lock.ts";
import { openUserConnection, SqliteUserDatabase } from "./converge-sql.ts";

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
// julianday() works in every SQLite version (operators' sqlite3 shells may predate unixepoch('subsec')).
const NOW_MS = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";

/**
 * The converge part's storage on SQLite: tables `<prefix>converge_*` in the store's file, wake-up
 * triggers that append to `<prefix>converge_wake`, and a `PRAGMA data_version` check that reads
 * new wake rows only when another connection committed.
 *
 * @example
 * ```ts
 * const converge = new SqliteConvergeStore(raw);
 * ```
 */
export class SqliteConvergeStore implements ConvergeStore {
  readonly driver = "sqlite" as const;
  readonly access: UserDatabase;
  readonly #raw: SqliteRaw;
  readonly #t: { leases: string; inconsistencies: string; terminal: string; wake: string };
  readonly #listeners = new Set<WakeListener>();
  readonly #lock: FileLock;

  constructor(raw: SqliteRaw) {
    this.#raw = raw;
    const p = raw.prefix;
    this.#t = {
      leases: quote(`${p}converge_leases`),
      inconsistencies: quote(`${p}converge_inconsistencies`),
      terminal: quote(`${p}converge_terminal`),
      wake: quote(`${p}converge_wake`),
    };
    this.access = new SqliteUserDatabase(raw.path);
    this.#lock = fileLock(raw.path);
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseAttempt> {
    return this.#lock.run(() => {
      const db = this.#raw.db;
      const peek = db.prepare(`SELECT holder, expires_at FROM ${this.#t.leases} WHERE name = ?`).get(name) as
        { holder: string; expires_at: number } | undefined;
      const before = Date.now();
      if (peek !== undefined && peek.holder !== holder && peek.expires_at > before) {
        // Held by another and live: no need for the write lock to know we wait.
        return { held: false, holder: peek.holder, expiresAt: peek.expires_at, now: before };
      }
      return this.#raw.write(() => {
        const now = Date.now();
        const row = db
          .prepare(`SELECT holder, epoch, expires_at FROM ${this.#t.leases} WHERE name = ?`)
          .get(name) as { holder: string; epoch: number; expires_at: number } | undefined;
        const current =
          row === undefined ? null : { holder: row.holder, epoch: row.epoch, expiresAt: row.expires_at };
        const decision = decideLease(current, holder, now, ttlMs);
        if (decision.kind === "wait")
          return { held: false, holder: decision.holder, expiresAt: decision.expiresAt, now };
        db.prepare(
          `INSERT INTO ${this.#t.leases} (name, holder, epoch, expires_at, acquired_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch, expires_at = excluded.expires_at,
             acquired_at = CASE WHEN ${this.#t.leases}.epoch = excluded.epoch THEN ${this.#t.leases}.acquired_at ELSE excluded.acquired_at END`,
        ).run(name, holder, decision.epoch, decision.expiresAt, now);
        return { held: true, epoch: decision.epoch, expiresAt: decision.expiresAt, now };
      });
    });
  }

  async releaseLease(name: string, fence: Fence): Promise<void> {
    return this.#lock.run(async () => {
      await this.#raw.write(() => {
        this.#raw.db
          .prepare(`UPDATE ${this.#t.leases} SET expires_at = ? WHERE name = ? AND holder = ? AND epoch = ?`)
          .run(Date.now(), name, fence.holder, fence.epoch);
      });
    });
  }

  #fenced(fence: Fence | null): string {
    return fence === null
      ? "?3 IS NULL AND ?4 IS NULL"
      : `EXISTS (SELECT 1 FROM ${this.#t.leases} WHERE name = ?1 AND holder = ?3 AND epoch = ?4 AND expires_at > ${NOW_MS})`;
  }

  async recordInconsistencies(
    converger: string,
    records: ReadonlyArray<{ key: string; changes: unknown }>,
    fence: Fence | null,
  ): Promise<boolean> {
    return this.#lock.run(() =>
      this.#raw.write(() => {
        const db = this.#raw.db;
        const holder = fence?.holder ?? null;
        const epoch = fence?.epoch ?? null;
        const allowed = db
          .prepare(`SELECT ${this.#fenced(fence)} AS ok`)
          .get(converger, null, holder, epoch) as {
          ok: number;
        };
        if (allowed.ok !== 1) return false;
        const insert = db.prepare(
          `INSERT INTO ${this.#t.inconsistencies} (converger, key, changes, holder, epoch, at) VALUES (?, ?, ?, ?, ?, ${NOW_MS})`,
        );
        for (const r of records) insert.run(converger, r.key, JSON.stringify(r.changes), holder, epoch);
        return true;
      }),
    );
  }

  async listInconsistencies(filter: InconsistencyFilter): Promise<Inconsistency[]> {
    const rows = this.#raw.db
      .prepare(
        `SELECT id, converger, key, changes, holder, epoch, at FROM ${this.#t.inconsistencies}
         WHERE (?1 IS NULL OR converger = ?1) AND (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at < ?3)
           AND (?5 IS NULL OR key = ?5)
         ORDER BY at DESC, id DESC LIMIT ?4`,
      )
      .all(
        filter.converger ?? null,
        filter.since?.getTime() ?? null,
        filter.until?.getTime() ?? null,
        filter.limit ?? 100,
        filter.key ?? null,
      ) as Array<{
      id: number;
      converger: string;
      key: string;
      changes: string;
      holder: string | null;
      epoch: number | null;
      at: number;
    }>;
    return rows.map((r) => ({
      id: String(r.id),
      converger: r.converger,
      key: r.key,
      changes: JSON.parse(r.changes) as unknown,
      holder: r.holder,
      epoch: r.epoch,
      at: new Date(r.at),
    }));
  }

  async recordTerminal(
    converger: string,
    key: string,
    version: string | null,
    message: string,
    fence: Fence | null,
  ): Promise<boolean> {
    return this.#lock.run(() =>
      this.#raw.write(() => {
        const result = this.#raw.db
          .prepare(
            `INSERT INTO ${this.#t.terminal} (converger, key, version, message, at)
           SELECT ?1, ?2, ?5, ?6, ${NOW_MS} WHERE ${this.#fenced(fence)}
           ON CONFLICT (converger, key) DO UPDATE SET version = excluded.version, message = excluded.message, at = excluded.at`,
          )
          .run(converger, key, fence?.holder ?? null, fence?.epoch ?? null, version, message);
        return Number(result.changes) === 1;
      }),
    );
  }

  async clearTerminal(converger: string, key: string | null): Promise<number> {
    return this.#lock.run(() =>
      this.#raw.write(() => {
        const result = this.#raw.db
          .prepare(`DELETE FROM ${this.#t.terminal} WHERE converger = ?1 AND (?2 IS NULL OR key = ?2)`)
          .run(converger, key);
        return Number(result.changes);
      }),
    );
  }

  async listTerminal(converger?: string): Promise<TerminalKey[]> {
    const rows = this.#raw.db
      .prepare(
        `SELECT converger, key, version, message, at FROM ${this.#t.terminal}
         WHERE (?1 IS NULL OR converger = ?1) ORDER BY at, converger, key`,
      )
      .all(converger ?? null) as Array<{
      converger: string;
      key: string;
      version: string | null;
      message: string;
      at: number;
    }>;
    return rows.map((r) => ({
      converger: r.converger,
      key: r.key,
      version: r.version,
      message: r.message,
      at: new Date(r.at),
    }));
  }

  async pruneInconsistencies(converger: string | null, olderThan: Date, limit: number): Promise<number> {
    return this.#lock.run(() =>
      this.#raw.write(() => {
        const result = this.#raw.db
          .prepare(
            `DELETE FROM ${this.#t.inconsistencies} WHERE id IN (
             SELECT id FROM ${this.#t.inconsistencies}
             WHERE (?1 IS NULL OR converger = ?1) AND at < ?2 ORDER BY at LIMIT ?3)`,
          )
          .run(converger, olderThan.getTime(), limit);
        return Number(result.changes);
      }),
    );
  }

  async pruneTerminal(converger: string, olderThan: Date, limit: number): Promise<string[]> {
    return this.#lock.run(() =>
      this.#raw.write(() => {
        const rows = this.#raw.db
          .prepare(
            `DELETE FROM ${this.#t.terminal} WHERE converger = ?1 AND key IN (
             SELECT key FROM ${this.#t.terminal} WHERE converger = ?1 AND at < ?2 ORDER BY at LIMIT ?3)
           RETURNING key`,
          )
          .all(converger, olderThan.getTime(), limit) as Array<{ key: string }>;
        return rows.map((r) => r.key);
      }),
    );
  }

  async listLeases(): Promise<LeaseRecord[]> {
    const rows = this.#raw.db
      .prepare(
        `SELECT name, holder, epoch, acquired_at, expires_at, expires_at > ${NOW_MS} AS live
         FROM ${this.#t.leases} ORDER BY name`,
      )
      .all() as Array<{
      name: string;
      holder: string;
      epoch: number;
      acquired_at: number;
      expires_at: number;
      live: number;
    }>;
    return rows.map((r) => ({
      name: r.name,
      holder: r.holder,
      epoch: Number(r.epoch),
      acquiredAt: new Date(Number(r.acquired_at)),
      expiresAt: new Date(Number(r.expires_at)),
      live: Number(r.live) === 1,
    }));
  }

  async requestSweep(converger: string, key: string | null = null): Promise<void> {
    await this.#lock.run(() =>
      this.#raw.write(() => {
        this.#raw.db
          .prepare(`INSERT INTO ${this.#t.wake} (tbl, col, key, at) VALUES (?, ?, ?, ${NOW_MS})`)
          .run(SWEEP_REQUEST_TABLE, converger, key);
      }),
    );
  }

  async tableExists(table: WakeTable): Promise<boolean> {
    if (table.schema !== null && table.schema !== "main") return false;
    const row = this.#raw.db
      .prepare("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(table.table);
    return row !== undefined;
  }

  async columnExists(table: WakeTable, column: string): Promise<boolean> {
    const columns = this.#raw.db.prepare(`PRAGMA table_info(${quote(table.table)})`).all() as Array<{
      name: string;
    }>;
    return columns.some((c) => c.name === column);
  }

  async installWakeTrigger(table: WakeTable): Promise<string> {
    return this.#lock.run(async () => {
      const db = this.#raw.db;
      const columns = (
        db.prepare(`PRAGMA table_info(${quote(table.table)})`).all() as Array<{ name: string }>
      ).map((c) => c.name);
      const column = table.key ?? "";
      const base = `${this.#raw.prefix}wake_${table.table}_${column === "" ? "all" : column}`;
      const insert = (row: "NEW" | "OLD") =>
        `INSERT INTO ${this.#t.wake} (tbl, col, key, at) VALUES ('${table.table}', '${column}', ${
          column === "" ? "NULL" : `${row}.${quote(column)}`
        }, ${NOW_MS});`;
      const changed = columns.map((c) => `OLD.${quote(c)} IS NOT NEW.${quote(c)}`).join(" OR ");
      const wanted = new Map<string, string>([
        [
          `${base}_ins`,
          `CREATE TRIGGER ${quote(`${base}_ins`)} AFTER INSERT ON ${quote(table.table)} BEGIN ${insert("NEW")} END`,
        ],
        [
          `${base}_upd`,
          `CREATE TRIGGER ${quote(`${base}_upd`)} AFTER UPDATE ON ${quote(table.table)} WHEN ${changed} BEGIN ${insert("NEW")} END`,
        ],
        [
          `${base}_del`,
          `CREATE TRIGGER ${quote(`${base}_del`)} AFTER DELETE ON ${quote(table.table)} BEGIN ${insert("OLD")} END`,
        ],
      ]);
      const existing = new Map(
        (
          db
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?")
            .all(table.table) as Array<{
            name: string;
            sql: string;
          }>
        ).map((r) => [r.name, r.sql]),
      );
      if ([...wanted].every(([name, sql]) => existing.get(name) === sql)) return table.table;
      await this.#raw.write(() => {
        for (const [name, sql] of wanted) {
          db.exec(`DROP TRIGGER IF EXISTS ${quote(name)}`);
          db.exec(sql);
        }
      });
      return table.table;
    });
  }

  async listenWakes(
    onWake: (wake: Wake) => void,
    _onReconnect: () => void,
    pollMs: number,
  ): Promise<WakeListener> {
    // Reads only: a busy file (another connection recovering the WAL) is retried on the next poll.
    const conn: DatabaseSync = openUserConnection(this.#raw.path, 0);
    const version = conn.prepare("PRAGMA data_version");
    const fetch = conn.prepare(
      `SELECT seq, tbl, col, key FROM ${this.#t.wake} WHERE seq > ? ORDER BY seq LIMIT 1000`,
    );
    let last = Number(
      (conn.prepare(`SELECT COALESCE(MAX(seq), 0) AS s FROM ${this.#t.wake}`).get() as { s: number }).s,
    );
    let seen = (version.get() as { data_version: number }).data_version;
    let lastPrune = Date.now();
    let stopped = false;
    const poll = () => {
      if (stopped) return;
      try {
        const now = (version.get() as { data_version: number }).data_version;
        if (now === seen) return;
        seen = now;
        for (;;) {
          const rows = fetch.all(last) as Array<{
            seq: number;
            tbl: string;
            col: string;
            key: string | null;
          }>;
          for (const r of rows) {
            last = r.seq;
            onWake({ table: r.tbl, column: r.col, key: r.key === null ? null : String(r.key) });
          }
          if (rows.length < 1000) break;
        }
        if (Date.now() - lastPrune > 10_000) {
          lastPrune = Date.now();
          const cutoff = Date.now() - 60_000;
          void this.#lock
            .run(() =>
              this.#raw.write(() =>
                this.#raw.db.prepare(`DELETE FROM ${this.#t.wake} WHERE at < ?`).run(cutoff),
              ),
            )
            .catch(() => {});
        }
      } catch {
        // A busy or briefly locked file: the next poll tries again; periodic sweeps cover the gap.
      }
    };
    const timer = setInterval(poll, pollMs);
    const listener: WakeListener = {
      stop: async () => {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        conn.close();
        this.#listeners.delete(listener);
      },
    };
    this.#listeners.add(listener);
    return listener;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((l) => l.stop()));
    (this.access as SqliteUserDatabase).close();
  }
}
