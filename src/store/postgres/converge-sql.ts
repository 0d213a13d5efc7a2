import type { Pool } from "pg";
import type { OpenTransaction, Row, SqlParam, UserDatabase } from "../user-database.ts";
import { inPooledTransaction } from "./pool.ts";

const bind = (params: readonly SqlParam[]): unknown[] =>
  params.map((p) => (typeof p === "bigint" ? p.toString() : p));

/**
 * The app's PostgreSQL database for converger code: the store's pool (shared and bounded by the
 * convergers' limiter), `$1` placeholders, and transactions on one pooled client.
 *
 * @example
 * ```ts
 * const db = new PostgresUserDatabase(pool);
 * await db.transaction(async (tx) => tx.sql("UPDATE account SET archived_at = now() WHERE id = $1", [42]));
 * ```
 */
export class PostgresUserDatabase implements UserDatabase {
  readonly driver = "postgres" as const;
  readonly db = undefined;
  readonly pool: Pool;

  constructor(pool: Pool) {
    this.pool = pool;
  }

  sql = async (text: string, params: readonly SqlParam[] = []): Promise<Row[]> =>
    (await this.pool.query(text, bind(params))).rows as Row[];

  async transaction<T>(fn: (tx: OpenTransaction) => Promise<T>): Promise<T> {
    return inPooledTransaction(this.pool, (client) =>
      fn({
        sql: async (text, params = []) => (await client.query(text, bind(params))).rows as Row[],
        handle: client,
      }),
    );
  }
}
