/**
 * The example app's own database access (an app has its own; tend does not own these tables):
 * one `sql(text, params)` with `$1` placeholders on SQLite and PostgreSQL.
 */
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { toSqlitePlaceholders } from "../../src/store/sqlite/converge-sql.ts";

export type Sql = (text: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>;

export interface AppDatabase {
  driver: "sqlite" | "postgres";
  sql: Sql;
  close(): Promise<void>;
}

/** The SQLite file of a `sqlite:` URL (query string removed). */
export function sqlitePath(url: string): string {
  return (
    url
      .slice("sqlite:".length)
      .replace(/^\/\/(?=\/)/, "")
      .split("?")[0] ?? ""
  );
}

/** Opens the app's database named by the same URL tend uses. */
export async function openAppDatabase(url: string): Promise<AppDatabase> {
  if (url.startsWith("sqlite:")) {
    const db = new DatabaseSync(sqlitePath(url), { timeout: 10_000 });
    db.exec("PRAGMA journal_mode = WAL");
    return {
      driver: "sqlite",
      sql: async (text, params = []) =>
        db
          .prepare(toSqlitePlaceholders(text))
          .all(...(params as never[]))
          .map((row) => ({ ...row })),
      close: async () => db.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return {
    driver: "postgres",
    sql: async (text, params = []) => (await pool.query(text, params)).rows,
    close: () => pool.end(),
  };
}
