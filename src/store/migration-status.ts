import { migrationsFor } from "./components.ts";
import { migrationStatusRows, type MigrationStatusRow } from "./migration.ts";
import { rawConnection } from "./raw.ts";
import type { Store } from "./store.ts";

/**
 * Every migration this version of tend knows or the store's database holds: applied, pending, or
 * unknown (applied by a newer version). Reads only, so it works on a database of any age.
 *
 * @example
 * ```ts
 * for (const m of await migrationStatus(store)) console.log(m.state, m.component, m.version, m.name);
 * ```
 */
export async function migrationStatus(store: Store): Promise<MigrationStatusRow[]> {
  const raw = rawConnection(store);
  if (raw.driver === "sqlite") {
    const { appliedMigrations } = await import("./sqlite/migrate.ts");
    const { tablesFor } = await import("./sqlite/context.ts");
    return migrationStatusRows(
      await migrationsFor("sqlite"),
      appliedMigrations(raw.db, tablesFor(raw.prefix)),
    );
  }
  const { appliedPostgresMigrations } = await import("./postgres/migrate.ts");
  return migrationStatusRows(
    await migrationsFor("postgres"),
    await appliedPostgresMigrations(raw.pool, raw.schema),
  );
}
