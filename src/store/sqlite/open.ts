import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { checkInteger, invalidArgument } from "../../errors/index.ts";
import { MAX_TIMER_MS } from "../../lifecycle/index.ts";
import { createLogger } from "../../log/index.ts";
import { storeClosed } from "../closed.ts";
import { migrationsFor } from "../components.ts";
import { logUnknownMigrations, requireMigrated } from "../migration.ts";
import { type SqliteRaw, withRawConnection } from "../raw.ts";
import type { Store, StoreOptions } from "../store.ts";
import { dedupeWakeups, type SqliteContext, statementCache, tablesFor, writeTransaction } from "./context.ts";
import { SqliteAdminStore } from "./admin-store.ts";
import { SqliteProcessRegistry } from "./process-registry.ts";
import { SqliteConvergeStore } from "./converge-store.ts";
import { GroupCommit } from "./group-commit.ts";
import { SqliteJobStore } from "./job-store.ts";
import { databaseNotFound, unusableDatabase } from "./errors.ts";
import { retryWhileBusy, withoutBusyWait } from "./lock-wait.ts";
import { appliedMigrations, applyMigrations, type MigrateOutcome } from "./migrate.ts";
import { publish, SqliteNotifier } from "./notifier.ts";
import { isValidTablePrefix, parseSqliteUrl } from "./url.ts";

/**
 * Options of the SQLite driver beyond the shared StoreOptions, for tend's own tests and tools:
 * `openStore` does not take them (users set the poll in the URL, `?poll=25ms`).
 */
export interface SqliteStoreOptions extends StoreOptions {
  /** Interval of the cross-process commit poll while anyone listens (default: URL `poll`, else 25 ms). */
  pollMs?: number;
  /**
   * How long a write waits for another process's write lock before failing, in ms (default
   * 10,000). The wait is asynchronous: the lock is tried on a timer, never slept on in the event loop.
   */
  busyTimeoutMs?: number;
}

const DEFAULT_PREFIX = "tend_";
const DEFAULT_BUSY_TIMEOUT_MS = 10_000;
/**
 * The connection's busy timeout outside write-lock attempts: reads in WAL mode meet a lock only
 * while another connection recovers the WAL after a crash; they wait at most this long for it.
 */
export const READ_BUSY_TIMEOUT_MS = 50;
let memoryCounter = 0;

/**
 * Opens tend's store on an SQLite file (created with its folder when missing, unless
 * `options.create` is false: then TEND_E_DATABASE_NOT_FOUND; a path that is not a usable database
 * is TEND_E_DATABASE_UNREADABLE): WAL, write locks waited for asynchronously (see lock-wait.ts),
 * foreign keys on, `synchronous=FULL` unless the URL says `?synchronous=normal`. Safe for
 * several processes on one machine: every write takes the write lock up front (`BEGIN IMMEDIATE`).
 * Does not migrate by itself: `openStore` calls `migrate()` unless told not to.
 *
 * @example
 * ```ts
 * const store = await openSqliteStore("sqlite:./var/tend.db", {});
 * await store.migrate();
 * await store.close();
 * ```
 */
export async function openSqliteStore(url: string, options: SqliteStoreOptions = {}): Promise<Store> {
  const parsed = parseSqliteUrl(url);
  const prefix = options.tablePrefix ?? DEFAULT_PREFIX;
  if (!isValidTablePrefix(prefix)) {
    throw invalidArgument(
      "TEND_E_INVALID_SQLITE_OPTION",
      "tablePrefix",
      prefix,
      'lower-case letters, digits and underscores, e.g. "tend_"',
    );
  }
  const pollMs = checkInteger(
    "TEND_E_INVALID_SQLITE_OPTION",
    "pollMs",
    options.pollMs ?? parsed.pollMs,
    1,
    MAX_TIMER_MS,
  );
  const busyTimeoutMs = checkInteger(
    "TEND_E_INVALID_SQLITE_OPTION",
    "busyTimeoutMs",
    options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    0,
    MAX_TIMER_MS,
  );
  const log = (options.log ?? createLogger()).child({ part: "store", driver: "sqlite" });

  const memory = parsed.path === ":memory:";
  if (!memory && options.create === false && !existsSync(parsed.path)) {
    throw databaseNotFound(parsed.path, url);
  }
  let db: DatabaseSync;
  try {
    if (!memory) mkdirSync(dirname(parsed.path), { recursive: true });
    db = new DatabaseSync(parsed.path, { timeout: busyTimeoutMs, enableForeignKeyConstraints: true });
  } catch (err) {
    throw unusableDatabase(err, parsed.path);
  }
  let realPath: string;
  try {
    if (!memory) {
      // Switching to WAL needs a moment of exclusive access; the busy timeout covers a racing opener.
      const mode = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode?: string } | undefined;
      if (mode?.journal_mode !== "wal") {
        log.warn(
          { mode: mode?.journal_mode, path: parsed.path },
          "SQLite refused WAL mode; several processes will contend more",
        );
      }
    }
    db.exec(`PRAGMA synchronous = ${parsed.synchronous}`);
    db.exec("PRAGMA foreign_keys = ON");
    // A job cancelled because its parent failed cancels its own dependents in turn: the settle
    // trigger fires for the rows it changes (see the jobs migration 6).
    db.exec("PRAGMA recursive_triggers = ON");
    // From here on, write locks are tried without waiting and waited for on a timer (lock-wait.ts).
    db.exec(`PRAGMA busy_timeout = ${READ_BUSY_TIMEOUT_MS}`);
    realPath = memory ? `:memory:#${++memoryCounter}` : realpathSync(parsed.path);
  } catch (err) {
    db.close();
    throw unusableDatabase(err, parsed.path);
  }

  const t = tablesFor(prefix);
  const notifier = new SqliteNotifier(realPath, db, pollMs, log);
  const stmt = statementCache();
  let closed = false;
  const group = new GroupCommit(db, parsed.synchronous, {
    busyTimeoutMs,
    readBusyMs: READ_BUSY_TIMEOUT_MS,
    onLongWait: (waitedMs, writes) =>
      log.warn(
        { waitedMs, writes },
        "tend's writes have waited this long for a transaction of this process that holds the SQLite write lock (one that enqueued jobs with { tx }, still open); they run once it commits or rolls back. A tend call without { tx } awaited inside that transaction would wait forever: make it inside the transaction with { tx }, or after it",
      ),
  });
  const ctx: SqliteContext = {
    db,
    t,
    stmt: (sql, on = db) => {
      if (closed) throw storeClosed("sqlite");
      return stmt(sql, on);
    },
    write: (fn, relaxed = false) => {
      if (closed) return Promise.reject(storeClosed("sqlite"));
      return group.run(fn, relaxed);
    },
    deferWritesWhile: (blocked) => group.deferWhile(blocked),
    emit: (wakeups) => {
      for (const w of dedupeWakeups(wakeups)) publish(realPath, w.channel, w.payload);
    },
    now: () => Date.now(),
  };
  const raw: SqliteRaw = {
    driver: "sqlite",
    db,
    prefix,
    path: memory ? ":memory:" : realPath,
    writeTransaction: (fn) => writeTransaction(db, fn),
    write: (fn) => (closed ? Promise.reject(storeClosed("sqlite")) : group.run(fn)),
  };
  const converge = new SqliteConvergeStore(raw);

  let closing: Promise<void> | undefined;
  const store: Store = {
    driver: "sqlite",
    url,
    jobs: new SqliteJobStore(ctx, realPath, notifier),
    notifier,
    converge,
    admin: new SqliteAdminStore(ctx, prefix),
    processes: new SqliteProcessRegistry(ctx, prefix),
    async migrate() {
      if (closed) throw storeClosed("sqlite");
      let outcome: MigrateOutcome;
      try {
        const all = await migrationsFor("sqlite");
        // Processes starting together: the others wait for the first one's migration on a timer.
        outcome = await retryWhileBusy(
          () => withoutBusyWait(db, READ_BUSY_TIMEOUT_MS, () => applyMigrations(db, prefix, t, all, url)),
          busyTimeoutMs,
          "Migrating the SQLite database",
        );
      } catch (err) {
        throw unusableDatabase(err, raw.path);
      }
      const { applied, unknown } = outcome;
      if (unknown.length > 0) logUnknownMigrations(log, unknown);
      if (applied.length > 0) log.info({ applied, path: raw.path }, "applied SQLite migrations");
      return applied;
    },
    async verifyMigrated() {
      if (closed) throw storeClosed("sqlite");
      requireMigrated(await migrationsFor("sqlite"), appliedMigrations(db, t), {
        url,
        tables: `table prefix "${prefix}"`,
      });
    },
    close() {
      closing ??= (async () => {
        const errors: unknown[] = [];
        try {
          // Writes already requested still commit (their callers are waiting for them).
          group.flush();
        } catch (err) {
          errors.push(err);
        }
        closed = true;
        try {
          await converge.close();
        } catch (err) {
          errors.push(err);
        }
        try {
          notifier.close();
        } catch (err) {
          errors.push(err);
        }
        try {
          if (db.isOpen) {
            if (db.isTransaction) db.exec("ROLLBACK");
            db.close();
          }
        } catch (err) {
          errors.push(err);
        }
        if (errors.length > 0) throw new AggregateError(errors, "closing the SQLite store failed");
      })();
      return closing;
    },
  };
  return withRawConnection(store, raw);
}
