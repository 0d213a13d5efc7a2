import type { DatabaseSync } from "node:sqlite";
import { type Migration, pendingMigrations } from "../migration.ts";
import { type Tables, writeTransaction } from "./context.ts";

/**
 * Applies `all` migrations not yet recorded, in one `BEGIN IMMEDIATE` transaction: the write lock
 * is the migration lock, so processes starting together apply each migration exactly once (the
 * others wait, then find nothing left to do). Returns the names applied.
 *
 * @example
 * ```ts
 * const applied = applyMigrations(db, "tend_", tablesFor("tend_"), await migrationsFor("sqlite"));
 * ```
 */
export function applyMigrations(
  db: DatabaseSync,
  prefix: string,
  t: Tables,
  all: readonly Migration[],
): string[] {
  return writeTransaction(db, () => {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${t.migrations} (
         component TEXT NOT NULL,
         version INTEGER NOT NULL,
         name TEXT NOT NULL,
         applied_at INTEGER NOT NULL,
         PRIMARY KEY (component, version)
       )`,
    );
    const applied = db.prepare(`SELECT component, version FROM ${t.migrations}`).all() as Array<{
      component: string;
      version: number;
    }>;
    const todo = pendingMigrations(all, applied);
    const record = db.prepare(
      `INSERT INTO ${t.migrations} (component, version, name, applied_at) VALUES (?, ?, ?, ?)`,
    );
    for (const m of todo) {
      db.exec(m.sql.replaceAll("{{schema}}", prefix));
      record.run(m.component, m.version, m.name, Date.now());
    }
    return todo.map((m) => m.name);
  });
}

/**
 * The migrations recorded in the database, or null when its migrations table does not exist
 * (tend never migrated it). Reads only.
 *
 * @example
 * ```ts
 * const applied = appliedMigrations(db, tablesFor("tend_")); // [{ component: "jobs", version: 1 }, ...]
 * ```
 */
export function appliedMigrations(
  db: DatabaseSync,
  t: Tables,
): Array<{ component: string; version: number }> | null {
  const exists = db
    .prepare("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?")
    .get(t.migrations.replaceAll('"', ""));
  if (exists === undefined) return null;
  return db.prepare(`SELECT component, version FROM ${t.migrations}`).all() as Array<{
    component: string;
    version: number;
  }>;
}
