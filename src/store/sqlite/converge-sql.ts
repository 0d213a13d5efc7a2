import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { OpenTransaction, Row, SqlParam, UserDatabase } from "../user-database.ts";
import { type FileLock, fileLock } from "./converge-lock.ts";
import { retryWhileBusy } from "./lock-wait.ts";

/**
 * Pure: rewrites PostgreSQL-style `$1` placeholders into SQLite's numbered `?1`, leaving quoted
 * strings, quoted identifiers and comments alone, so that one SQL text serves both drivers.
 *
 * @example
 * ```ts
 * toSqlitePlaceholders("SELECT * FROM t WHERE a = $1 AND b = '$2'"); // "SELECT * FROM t WHERE a = ?1 AND b = '$2'"
 * ```
 */
export function toSqlitePlaceholders(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "'" || c === '"' || c === "`") {
      const end = text.indexOf(c, i + 1);
      const stop = end === -1 ? text.length : end + 1;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === "-" && text[i + 1] === "-") {
      const end = text.indexOf("\n", i);
      const stop = end === -1 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === "$" && /[0-9]/.test(text[i + 1] ?? "")) {
      let j = i + 1;
      while (/[0-9]/.test(text[j] ?? "")) j++;
      out += `?${text.slice(i + 1, j)}`;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function bind(params: readonly SqlParam[]): SQLInputValue[] {
  return params.map((p) => (typeof p === "boolean" ? (p ? 1 : 0) : p));
}

/** How long converger statements and transactions wait for another connection's write lock. */
const LOCK_WAIT_MS = 10_000;

/**
 * Opens a connection to the app's SQLite file for converger code (the file is already in WAL
 * mode, set by the store). `busyTimeoutMs` is how long a statement sleeps in the event loop on a
 * lock held elsewhere: 0 for tend's own connections, which wait on a timer instead (lock-wait.ts).
 *
 * @example
 * ```ts
 * const db = openUserConnection("/srv/app/var/tend.db", 0);
 * ```
 */
export function openUserConnection(path: string, busyTimeoutMs: number): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: busyTimeoutMs });
  db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  return db;
}

/**
 * The app's SQLite database for converger code: its own connection to the store's file (so user
 * transactions never mix with tend's), statements run one at a time, and transactions hold the
 * connection until they end.
 *
 * @example
 * ```ts
 * const db = new SqliteUserDatabase("/srv/app/var/tend.db");
 * const rows = await db.sql("SELECT id FROM account WHERE email = $1", ["ada@example.com"]);
 * ```
 */
export class SqliteUserDatabase implements UserDatabase {
  readonly driver = "sqlite" as const;
  readonly pool = undefined;
  readonly #path: string;
  #conn: DatabaseSync | undefined;
  #direct: DatabaseSync | undefined;
  readonly #lock: FileLock;
  readonly #statements = new Map<string, ReturnType<DatabaseSync["prepare"]>>();

  constructor(path: string) {
    this.#path = path;
    this.#lock = fileLock(path);
  }

  /**
   * A separate connection for direct synchronous use by user code (busy timeout 10 s: a statement
   * that meets another connection's write lock waits for it in the event loop).
   */
  get db(): DatabaseSync {
    this.#direct ??= openUserConnection(this.#path, LOCK_WAIT_MS);
    return this.#direct;
  }

  #connection(): DatabaseSync {
    // Busy timeout 0: a held lock is waited for on a timer (retryWhileBusy), not in the event loop.
    this.#conn ??= openUserConnection(this.#path, 0);
    return this.#conn;
  }

  #run(text: string, params: readonly SqlParam[]): Row[] {
    let stmt = this.#statements.get(text);
    if (stmt === undefined) {
      stmt = this.#connection().prepare(toSqlitePlaceholders(text));
      if (this.#statements.size > 500) this.#statements.clear();
      this.#statements.set(text, stmt);
    }
    // node:sqlite rows have a null prototype; hand out plain objects.
    return stmt.all(...bind(params)).map((row) => ({ ...row }));
  }

  // Outside a transaction each statement commits alone: one that met a busy lock applied nothing
  // and is tried again.
  sql = (text: string, params: readonly SqlParam[] = []): Promise<Row[]> =>
    this.#lock.run(() =>
      retryWhileBusy(() => this.#run(text, params), LOCK_WAIT_MS, "A converger statement"),
    );

  transaction<T>(fn: (tx: OpenTransaction) => Promise<T>): Promise<T> {
    return this.#lock.run(async () => {
      const conn = this.#connection();
      await retryWhileBusy(() => conn.exec("BEGIN IMMEDIATE"), LOCK_WAIT_MS, "A converger transaction");
      try {
        const result = await fn({ sql: async (text, params = []) => this.#run(text, params), handle: conn });
        conn.exec("COMMIT");
        return result;
      } catch (err) {
        if (conn.isTransaction) conn.exec("ROLLBACK");
        throw err;
      }
    });
  }

  close(): void {
    this.#statements.clear();
    this.#conn?.close();
    this.#direct?.close();
    this.#conn = undefined;
    this.#direct = undefined;
  }
}
