import type { DatabaseSync } from "node:sqlite";
import type { Pool } from "pg";

/** A value bound to a `$1`-style placeholder. Booleans become 1/0 on SQLite. */
export type SqlParam = string | number | bigint | boolean | null | Uint8Array;

/** One result row, by column name. */
export type Row = Record<string, unknown>;

/**
 * Runs one SQL statement with `$1, $2, ...` placeholders on the app's database (both drivers)
 * and returns its rows (empty for statements without `RETURNING`).
 */
export type SqlFn = (text: string, params?: readonly SqlParam[]) => Promise<Row[]>;

/** SQL bound to an open transaction, and the driver's handle inside it. */
export interface OpenTransaction {
  readonly sql: SqlFn;
  /** The driver's handle inside the transaction: a pg PoolClient, or the SQLite DatabaseSync. */
  readonly handle: unknown;
}

/** The app's database as the store gives it (transactions without enqueue). */
export interface UserDatabase {
  readonly driver: "sqlite" | "postgres";
  readonly sql: SqlFn;
  transaction<T>(fn: (tx: OpenTransaction) => Promise<T>): Promise<T>;
  readonly db: DatabaseSync | undefined;
  readonly pool: Pool | undefined;
}
