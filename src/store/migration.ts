import { TendError } from "../errors/index.ts";
import type { Logger } from "../log/index.ts";
import { codeAccepts, TEND_VERSION } from "./code-version.ts";

/**
 * A numbered schema change of one component (`jobs`, `converge`, ...) for one driver. Versions
 * are numbered per component from 1 and never change once released; the migrations table keys
 * applied migrations by (component, version), so parts evolve independently.
 *
 * Adding a migration is one entry in its component's list with the next version and its
 * `compatibleFrom`. Migrations are additive within a major version (a new nullable column, a
 * column with a default, a new table or index): older code keeps working on the new schema, so
 * `compatibleFrom` stays at the version that first shipped the component's previous migration.
 * A change older code cannot live with (dropping or renaming what it reads, a NOT NULL column
 * without a default) sets `compatibleFrom` to the version that ships it, so older binaries refuse
 * to start on that database with TEND_E_SCHEMA_TOO_NEW instead of failing on the first query.
 */
export interface Migration {
  component: string;
  version: number;
  name: string;
  /**
   * The oldest version of tend's code (`major.minor.patch`, see TEND_VERSION) that works on a
   * schema holding this migration. Recorded in the migrations table when applied, so that code
   * that does not know the migration can still read it.
   */
  compatibleFrom: string;
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
  applied: readonly AppliedMigration[] | null,
  where: { url: string; tables: string },
): void {
  if (applied !== null) checkSchemaNotTooNew(all, applied, where);
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

/** A row of the migrations table. `compatibleFrom` is null for rows recorded before tend kept it. */
export interface AppliedMigration {
  component: string;
  version: number;
  name: string;
  compatibleFrom: string | null;
  /** When it was applied (ms since the epoch). */
  appliedAt: number;
}

/** A row of the migrations table as a driver reads it (`applied_at`: a Date, or ms on SQLite). */
export interface MigrationRow {
  component: string;
  version: number;
  name: string;
  compatible_from?: string | null;
  applied_at: Date | number;
}

/**
 * Pure: the migrations table's rows as {@link AppliedMigration}s (both drivers).
 *
 * @example
 * ```ts
 * toAppliedMigrations([{ component: "jobs", version: 1, name: "jobs", applied_at: 0 }]);
 * ```
 */
export function toAppliedMigrations(rows: readonly MigrationRow[]): AppliedMigration[] {
  return rows.map((r) => ({
    component: r.component,
    version: Number(r.version),
    name: r.name,
    compatibleFrom: r.compatible_from ?? null,
    appliedAt: r.applied_at instanceof Date ? r.applied_at.getTime() : Number(r.applied_at),
  }));
}

/** Pure: the applied migrations that `all` (this version's migrations) does not hold, ordered. */
export function unknownMigrations(
  all: readonly Migration[],
  applied: readonly AppliedMigration[],
): AppliedMigration[] {
  const known = new Set(all.map((m) => `${m.component}:${m.version}`));
  return applied
    .filter((m) => !known.has(`${m.component}:${m.version}`))
    .sort((a, b) => a.component.localeCompare(b.component) || a.version - b.version);
}

/**
 * Pure: checks that code at version `code` may run on a database holding `applied` (newer
 * binaries may have applied migrations this one does not know). Returns the unknown migrations
 * (each declares it works with this code: the caller logs them); throws TEND_E_SCHEMA_TOO_NEW
 * naming those that need newer code (a row without a declaration counts as needing newer code).
 *
 * @example
 * ```ts
 * const unknown = checkSchemaNotTooNew(await migrationsFor("sqlite"), rows, { url });
 * if (unknown.length > 0) log.warn({ unknown }, "database has migrations this version does not know");
 * ```
 */
export function checkSchemaNotTooNew(
  all: readonly Migration[],
  applied: readonly AppliedMigration[],
  where: { url: string },
  code: string = TEND_VERSION,
): AppliedMigration[] {
  const unknown = unknownMigrations(all, applied);
  const tooNew = unknown.filter((m) => m.compatibleFrom === null || !codeAccepts(code, m.compatibleFrom));
  if (tooNew.length > 0) {
    const names = tooNew.map(
      (m) => `${m.component} ${m.version} (${m.name}, needs tend >= ${m.compatibleFrom ?? "unknown"})`,
    );
    throw new TendError(
      "TEND_E_SCHEMA_TOO_NEW",
      `The database at ${where.url} was migrated by a newer version of tend: ${names.join(", ")} cannot be used by this version (${code}). Run the newer version, or restore a backup taken before it migrated.`,
      {
        details: {
          url: where.url,
          code,
          migrations: tooNew.map((m) => ({
            migration: `${m.component}:${m.version}`,
            name: m.name,
            compatibleFrom: m.compatibleFrom,
          })),
        },
      },
    );
  }
  return unknown;
}

/** One line of `tend migrate --status`. */
export interface MigrationStatusRow {
  component: string;
  version: number;
  name: string;
  /** applied: known and applied; pending: known, not applied; unknown: applied by a newer version. */
  state: "applied" | "pending" | "unknown";
  compatibleFrom: string | null;
  appliedAt: number | null;
}

/**
 * Pure: every migration this version knows or the database holds, with its state, ordered by
 * component then version.
 */
export function migrationStatusRows(
  all: readonly Migration[],
  applied: readonly AppliedMigration[] | null,
): MigrationStatusRow[] {
  const byKey = new Map((applied ?? []).map((m) => [`${m.component}:${m.version}`, m]));
  const rows: MigrationStatusRow[] = all.map((m) => {
    const row = byKey.get(`${m.component}:${m.version}`);
    return {
      component: m.component,
      version: m.version,
      name: m.name,
      state: row === undefined ? "pending" : "applied",
      compatibleFrom: row?.compatibleFrom ?? m.compatibleFrom,
      appliedAt: row?.appliedAt ?? null,
    };
  });
  for (const m of unknownMigrations(all, applied ?? [])) {
    rows.push({ ...m, state: "unknown" });
  }
  return rows.sort((a, b) => a.component.localeCompare(b.component) || a.version - b.version);
}

/** Logs, as a warning, the migrations a newer version applied that this version runs without knowing. */
export function logUnknownMigrations(log: Logger, unknown: readonly AppliedMigration[]): void {
  log.warn(
    {
      unknown: unknown.map((m) => `${m.component}:${m.version}`),
      names: unknown.map((m) => m.name),
    },
    "the database holds migrations of a newer version of tend; each declares it works with this version, so starting",
  );
}
