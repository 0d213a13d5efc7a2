import type { DatabaseSync, StatementSync } from "node:sqlite";

/** Table names for one prefix. */
export interface Tables {
  jobs: string;
  cron: string;
  cronEntries: string;
  migrations: string;
  /** Per-queue settings (pause). */
  queues: string;
  /** Rate-limit windows of the claim. */
  rateWindows: string;
  /** Job dependencies: (job_id, parent_id). */
  jobDeps: string;
}

/**
 * Pure: the quoted table names for a (validated) prefix.
 *
 * @example
 * ```ts
 * tablesFor("tend_").jobs; // "\"tend_jobs\""
 * ```
 */
export function tablesFor(prefix: string): Tables {
  return {
    jobs: `"${prefix}jobs"`,
    cron: `"${prefix}cron"`,
    cronEntries: `"${prefix}cron_entries"`,
    migrations: `"${prefix}migrations"`,
    queues: `"${prefix}queues"`,
    rateWindows: `"${prefix}rate_windows"`,
    jobDeps: `"${prefix}job_deps"`,
  };
}

/** A notification to deliver once the transaction that caused it committed. */
export interface Wakeup {
  channel: string;
  payload: string;
}

/** What the SQLite job operations share: the connection, table names and a statement cache. */
export interface SqliteContext {
  db: DatabaseSync;
  t: Tables;
  /** The prepared statement for `sql` on `db` (default: the store's own connection), prepared once. */
  stmt(sql: string, db?: DatabaseSync): StatementSync;
  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction on the store's connection, grouped with the
   * other writes of this event-loop turn (see GroupCommit); resolves after the COMMIT. `relaxed`:
   * losing this write to a power cut is harmless (claims, heartbeats), see GroupCommit.
   */
  write<T>(fn: () => T, relaxed?: boolean): Promise<T>;
  /** Holds the store's queued writes back while `blocked()` is true (see GroupCommit.deferWhile). */
  deferWritesWhile(blocked: () => boolean): void;
  /** Delivers notifications (call after the commit that caused them). */
  emit(wakeups: readonly Wakeup[]): void;
  /** Milliseconds since the epoch (the process clock, shared by every process on the machine). */
  now(): number;
}

/**
 * Runs `fn` inside `BEGIN IMMEDIATE` on `db` (the write lock is taken up front, so writers never
 * interleave and never deadlock upgrading a read lock), committing on return and rolling back on throw.
 *
 * @example
 * ```ts
 * const n = writeTransaction(db, () => db.prepare("DELETE FROM t").run().changes);
 * ```
 */
export function writeTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  let result: T;
  try {
    result = fn();
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
  try {
    db.exec("COMMIT");
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
  return result;
}

/**
 * A statement cache per connection (the store's own and callers' handles).
 *
 * @example
 * ```ts
 * const stmt = statementCache();
 * stmt("SELECT 1", db).get();
 * ```
 */
export function statementCache(): (sql: string, db: DatabaseSync) => StatementSync {
  const caches = new WeakMap<DatabaseSync, Map<string, StatementSync>>();
  return (sql, db) => {
    let cache = caches.get(db);
    if (cache === undefined) {
      cache = new Map();
      caches.set(db, cache);
    }
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
}

/**
 * Pure: distinct wake-ups, in first-seen order.
 *
 * @example
 * ```ts
 * dedupeWakeups([{ channel: "jobs", payload: "q" }, { channel: "jobs", payload: "q" }]); // one entry
 * ```
 */
export function dedupeWakeups(wakeups: readonly Wakeup[]): Wakeup[] {
  const seen = new Set<string>();
  const out: Wakeup[] = [];
  for (const w of wakeups) {
    const key = `${w.channel}\u0000${w.payload}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(w);
    }
  }
  return out;
}
