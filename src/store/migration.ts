import { TendError } from "../errors/index.ts";

/**
 * A numbered schema change of one component (`jobs`, `converge`, ...) for one driver. Versions
 * are numbered per component from 1 and never change once released; the migrations table keys
 * applied migrations by (component, version), so parts evolve independently.
 */
export interface Migration {
  component: string;
  version: number;
  name: string;
  /** SQL script (may hold several statements). `{{schema}}` is replaced by the schema name (PostgreSQL) or table prefix (SQLite). */
  sql: string;
}

/** Pure: the migrations of `all` not in `applied`, ordered by component then version. Throws on a gap or duplicate. */
export function pendingMigrations(
  all: readonly Migration[],
  applied: ReadonlyArray<{ component: string; version: number }>,
): Migration[] {
  const done = new Set(applied.map((m) => `${m.component}:${m.version}`));
  const seen = new Set<string>();
  const byComponent = new Map<string, Migration[]>();
  for (const m of all) {
    const key = `${m.component}:${m.version}`;
    if (seen.has(key)) {
      throw new TendError(
        "TEND_E_MIGRATION_FAILED",
        `Two migrations are numbered ${key}; each version must be unique per component.`,
        {
          details: { component: m.component, version: m.version },
        },
      );
    }
    seen.add(key);
    const list = byComponent.get(m.component) ?? [];
    list.push(m);
    byComponent.set(m.component, list);
  }
  const out: Migration[] = [];
  for (const component of [...byComponent.keys()].sort()) {
    const list = (byComponent.get(component) ?? []).sort((a, b) => a.version - b.version);
    list.forEach((m, i) => {
      if (m.version !== i + 1)
        throw new TendError(
          "TEND_E_MIGRATION_FAILED",
          `Migrations of ${component} have a gap: expected version ${i + 1}, found ${m.version}.`,
          { details: { component, expected: i + 1, found: m.version } },
        );
      if (!done.has(`${m.component}:${m.version}`)) out.push(m);
    });
  }
  return out;
}

/**
 * Pure: throws TEND_E_DATABASE_NOT_MIGRATED unless every migration of `all` is in `applied`
 * (`null`: the migrations table does not exist, so none is). `url` and `tables` (the schema or
 * table prefix) say which database; the message says how to migrate it.
 *
 * @example
 * ```ts
 * requireMigrated(await migrationsFor("sqlite"), rows, { url: "sqlite:./var/tend.db", tables: 'table prefix "tend_"' });
 * ```
 */
export function requireMigrated(
  all: readonly Migration[],
  applied: ReadonlyArray<{ component: string; version: number }> | null,
  where: { url: string; tables: string },
): void {
  const pending = applied === null ? [...all] : pendingMigrations(all, applied);
  if (pending.length === 0) return;
  const state =
    applied === null || applied.length === 0
      ? `has no tend tables (${where.tables})`
      : `is behind this version of tend: ${pending.length} migration(s) not applied (${pending.map((m) => `${m.component} ${m.version}`).join(", ")})`;
  throw new TendError(
    "TEND_E_DATABASE_NOT_MIGRATED",
    `The database at ${where.url} ${state}. Run \`tend migrate --database ${where.url}\` (or start the app, which migrates on start), or check that the URL names the right database.`,
    { details: { url: where.url, pending: pending.map((m) => `${m.component}:${m.version}`) } },
  );
}
