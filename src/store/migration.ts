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
