import type pg from "pg";
import { TendError } from "../../errors/index.ts";
import { MAX_TIMER_MS } from "../../lifecycle/index.ts";
import type { Logger } from "../../log/index.ts";
import { migrationsFor } from "../components.ts";
import {
  type AppliedMigration,
  type MigrationRow,
  toAppliedMigrations,
  checkSchemaNotTooNew,
  logUnknownMigrations,
  pendingMigrations,
  requireMigrated,
} from "../migration.ts";
import { quoteIdent } from "./identifiers.ts";
import { noAnswer } from "./pool.ts";

/**
 * Applies every pending migration of every component in ONE transaction that first takes a
 * transaction-level advisory lock keyed by the schema, so processes starting together queue up
 * (the second sees the first's work once it commits) and the lock is released on commit or on a
 * lost connection, even behind a transaction-pooling proxy. Creates the schema if needed.
 * Migrations recorded by a newer version of tend are checked first: TEND_E_SCHEMA_TOO_NEW (nothing
 * applied) unless each declares it works with this code (then they are logged). Returns the names
 * applied.
 *
 * @example
 * ```ts
 * const applied = await migratePostgres(pool, "tend", log, "postgres://app@db/app");
 * ```
 */
export async function migratePostgres(
  pool: pg.Pool,
  schema: string,
  log: Logger,
  url: string,
): Promise<string[]> {
  const all = await migrationsFor("postgres");
  const s = quoteIdent(schema);
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query("BEGIN");
    try {
      // A migration may rebuild an index of a large table, and processes starting together wait
      // for the first one's migrations: no statement or lock timeout inside this transaction.
      await client.query("SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0");
      await client.query({
        text: "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        values: [`tend.migrate.${schema}`],
        query_timeout: MAX_TIMER_MS,
      } as pg.QueryConfig);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.migrations (
        component text NOT NULL,
        version integer NOT NULL,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        compatible_from text,
        PRIMARY KEY (component, version)
      )`);
      // Tables made before tend recorded compatibility lack the column.
      await client.query(`ALTER TABLE ${s}.migrations ADD COLUMN IF NOT EXISTS compatible_from text`);
      const { rows } = await client.query<MigrationRow>(`SELECT * FROM ${s}.migrations`);
      const applied = toAppliedMigrations(rows);
      const unknown = checkSchemaNotTooNew(all, applied, { url });
      if (unknown.length > 0) logUnknownMigrations(log, unknown);
      const pending = pendingMigrations(all, applied);
      for (const m of pending) {
        try {
          // pg reads a per-query query_timeout (its types do not list it): no client-side limit either.
          await client.query({
            text: m.sql.replaceAll("{{schema}}", s),
            query_timeout: MAX_TIMER_MS,
          } as pg.QueryConfig);
        } catch (err) {
          throw new TendError(
            "TEND_E_MIGRATION_FAILED",
            `Migration ${m.component} ${m.version} (${m.name}) failed on schema ${schema}: ${(err as Error).message}. Nothing was applied; fix the cause and start again.`,
            { cause: err, details: { component: m.component, version: m.version, schema } },
          );
        }
        await client.query(
          `INSERT INTO ${s}.migrations (component, version, name, compatible_from) VALUES ($1, $2, $3, $4)`,
          [m.component, m.version, m.name, m.compatibleFrom],
        );
      }
      await client.query("COMMIT");
      if (pending.length > 0) {
        log.info(
          { schema, applied: pending.map((m) => `${m.component}:${m.version}`) },
          "applied migrations",
        );
      }
      return pending.map((m) => m.name);
    } catch (err) {
      // A connection that stopped answering is dropped, not asked to roll back.
      if (noAnswer(err)) broken = err;
      else
        await client.query("ROLLBACK").catch((rollbackErr: unknown) => {
          broken = rollbackErr;
        });
      throw err;
    }
  } finally {
    // A connection whose rollback failed (or never answered) is discarded, not reused.
    client.release(broken instanceof Error ? broken : undefined);
  }
}

/**
 * The migrations recorded in `schema`, or null when it has no migrations table. Reads only.
 *
 * @example
 * ```ts
 * const applied = await appliedPostgresMigrations(pool, "tend");
 * ```
 */
export async function appliedPostgresMigrations(
  pool: pg.Pool,
  schema: string,
): Promise<AppliedMigration[] | null> {
  try {
    return toAppliedMigrations(
      (await pool.query<MigrationRow>(`SELECT * FROM ${quoteIdent(schema)}.migrations`)).rows,
    );
  } catch (err) {
    // 42P01: no such table; 3F000: no such schema.
    const code = (err as { code?: unknown }).code;
    if (code !== "42P01" && code !== "3F000") throw err;
    return null;
  }
}

/**
 * Throws TEND_E_DATABASE_NOT_MIGRATED unless every migration is applied in `schema`, and
 * TEND_E_SCHEMA_TOO_NEW when a newer version applied migrations that need newer code (applies
 * nothing). `url` (password removed) names the database in the message.
 *
 * @example
 * ```ts
 * await verifyPostgresMigrated(pool, "tend", "postgres://app@db/app");
 * ```
 */
export async function verifyPostgresMigrated(pool: pg.Pool, schema: string, url: string): Promise<void> {
  const all = await migrationsFor("postgres");
  const applied = await appliedPostgresMigrations(pool, schema);
  requireMigrated(all, applied, { url, tables: `schema "${schema}"` });
}
