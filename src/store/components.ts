import type { Migration } from "./migration.ts";
import type { DriverName } from "./store.ts";

/**
 * The migrations of every component, per driver. Each part keeps its SQL beside its driver code
 * (one list per component, one entry per migration with its `compatibleFrom`) and adds one line
 * here; drivers apply `migrationsFor(driver)` in `migrate()`.
 */
const registry: Record<DriverName, Array<() => Promise<readonly Migration[]>>> = {
  sqlite: [
    async () => (await import("./sqlite/migrations.ts")).JOBS_MIGRATIONS,
    async () => (await import("./sqlite/converge-migrations.ts")).CONVERGE_MIGRATIONS,
    async () => (await import("./sqlite/admin-migrations.ts")).ADMIN_MIGRATIONS,
    async () => (await import("./sqlite/process-migrations.ts")).PROCESS_MIGRATIONS,
  ],
  postgres: [
    async () => (await import("./postgres/migrations.ts")).JOBS_MIGRATIONS,
    async () => (await import("./postgres/converge-migrations.ts")).CONVERGE_MIGRATIONS,
    async () => (await import("./postgres/fleet-migrations.ts")).FLEET_MIGRATIONS,
    async () => (await import("./postgres/admin-migrations.ts")).ADMIN_MIGRATIONS,
    async () => (await import("./postgres/process-migrations.ts")).PROCESS_MIGRATIONS,
  ],
};

const extra: Record<DriverName, Migration[]> = { sqlite: [], postgres: [] };

/**
 * Internal, for tests that play a newer version of tend in a process of their own: adds
 * migrations to those of `driver` for the rest of this process.
 */
export function addMigrationsForTesting(driver: DriverName, migrations: readonly Migration[]): void {
  extra[driver].push(...migrations);
}

/** Every migration of every component for one driver. */
export async function migrationsFor(driver: DriverName): Promise<Migration[]> {
  const lists = await Promise.all(registry[driver].map((load) => load()));
  return [...lists.flat(), ...extra[driver]];
}
