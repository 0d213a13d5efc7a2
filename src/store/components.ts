import type { Migration } from "./migration.ts";
import type { DriverName } from "./store.ts";

/**
 * The migrations of every component, per driver. Each part keeps its SQL beside its driver code
 * and adds one line here; drivers apply `migrationsFor(driver)` in `migrate()`.
 */
const registry: Record<DriverName, Array<() => Promise<readonly Migration[]>>> = {
  sqlite: [
    async () => (await import("./sqlite/migrations.ts")).JOBS_MIGRATIONS,
    async () => (await import("./sqlite/converge-migrations.ts")).CONVERGE_MIGRATIONS,
  ],
  postgres: [
    async () => (await import("./postgres/migrations.ts")).JOBS_MIGRATIONS,
    async () => (await import("./postgres/converge-migrations.ts")).CONVERGE_MIGRATIONS,
  ],
};

/** Every migration of every component for one driver. */
export async function migrationsFor(driver: DriverName): Promise<Migration[]> {
  const lists = await Promise.all(registry[driver].map((load) => load()));
  return lists.flat();
}
