import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { toSqlitePlaceholders } from "../../src/store/sqlite/converge-sql.ts";
import type { Backend } from "./backends.ts";

/** An operator's own connection (psql / sqlite3 stand-in): one statement at a time, committed. */
export interface Operator {
  exec(text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** Opens an operator connection to the backend's database. */
export async function openOperator(backend: Backend): Promise<Operator> {
  if (backend.driver === "sqlite") {
    const db = new DatabaseSync(backend.url.slice("sqlite:".length), { timeout: 10_000 });
    return {
      exec: async (text, params = []) =>
        db.prepare(toSqlitePlaceholders(text)).all(...(params as never[])) as Array<Record<string, unknown>>,
      close: async () => db.close(),
    };
  }
  const client = new pg.Client({ connectionString: backend.url });
  // A test may cut every connection of its database on purpose; the next query reports it.
  client.on("error", () => {});
  await client.connect();
  return {
    exec: async (text, params = []) =>
      (await client.query(text, params)).rows as Array<Record<string, unknown>>,
    close: () => client.end(),
  };
}
