import type { DatabaseSync } from "node:sqlite";
import {
  type AppliedMigration,
  type MigrationRow,
  toAppliedMigrations,
  checkSchemaNotTooNew,
  type Migration,
  pendingMigrations,
} from "../migration.ts";
import { type Tables, writeTransaction } from "./context.ts";

/** What {@link applyMigrations} did. */
export interface MigrateOutcome {
  /** Names of the migrations applied now. */
  applied: string[];
  /** Migrations in the database that this version does not know (each declares it works with this code). */
  unknown: AppliedMigration[];
}

/**
 * Applies `all` migrations not yet recorded, in one `BEGIN IMMEDIATE` transaction: the write lock
 * is the migration lock, so processes starting together apply each migration exactly once (the
 * others wait, then find nothing left to do). Migrations recorded by a newer version of tend are
 * checked first: TEND_E_SCHEMA_TOO_NEW (nothing applied) unless each declares it works with this
 * code. Returns the names applied and the unknown migrations.
 *
 * @example
 * ```ts
 * const { applied } = applyMigrations(db, "tend_", tablesFor("tend_"), await migrationsFor("sqlite"), url);
 * ```
 */
export function applyMigrations(
  db: DatabaseSync,
  prefix: string,
  t: Tables,
  all: readonly Migration[],
  url: string,
): MigrateOutcome {
  return writeTransaction(db, () => {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${t.migrations} (
         component TEXT NOT NULL,
         version INTEGER NOT NULL,
         name TEXT NOT NULL,
         applied_at INTEGER NOT NULL,
         compatible_from TEXT,
         PRIMARY KEY (component, version)
       )`,
    );
    // Tables made before tend recorded compatibility lack the column: add it once.
    const columns = db.prepare(`PRAGMA table_info(${t.migrations})`).all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === "compatible_from")) {
      db.exec(`ALTER TABLE ${t.migrations} ADD COLUMN compatible_from TEXT`);
    }
    const applied = toAppliedMigrations(
      db.prepare(`SELECT * FROM ${t.migrations}`).all() as unknown as MigrationRow[],
    );
    const unknown = checkSchemaNotTooNew(all, applied, { url });
    const todo = pendingMigrations(all, applied);
    const record = db.prepare(
      `INSERT INTO ${t.migrations} (component, version, name, applied_at, compatible_from) VALUES (?, ?, ?, ?, ?)`,
    );
    for (const m of todo) {
      db.exec(m.sql.replaceAll("{{schema}}", prefix));
      record.run(m.component, m.version, m.name, Date.now(), m.compatibleFrom);
    }
    return { applied: todo.map((m) => m.name), unknown };
  });
}

/**
 * The migrations recorded in the database, or null when its migrations table does not exist
 * (tend never migrated it). Reads only.
 *
 * @example
 * ```ts
 * const applied = appliedMigrations(db, tablesFor("tend_")); // [{ component: "jobs", version: 1, ... }, ...]
 * ```
 */
export function appliedMigrations(db: DatabaseSync, t: Tables): AppliedMigration[] | null {
  const exists = db
    .prepare("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?")
    .get(t.migrations.replaceAll('"', ""));
  if (exists === undefined) return null;
  return toAppliedMigrations(db.prepare(`SELECT * FROM ${t.migrations}`).all() as unknown as MigrationRow[]);
}
