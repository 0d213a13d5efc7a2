import type { Migration } from "../migration.ts";

/**
 * The converge part's tables on SQLite. `{{schema}}` is replaced by the table prefix (`tend_`).
 * Times are INTEGER ms since the epoch (process clocks of one machine).
 * - converge_leases: one row per converger (holder, fencing epoch, expiry);
 * - converge_inconsistencies: one row per converge call that changed something;
 * - converge_terminal: keys that failed with a terminal error, until they change;
 * - converge_wake: rows written by the change triggers of wakeOn tables (pruned after a minute).
 *
 * @example
 * ```ts
 * const sql = CONVERGE_MIGRATIONS[0]!.sql.replaceAll("{{schema}}", "tend_");
 * ```
 */
export const CONVERGE_MIGRATIONS: Migration[] = [
  {
    component: "converge",
    version: 1,
    name: "converge: leases, inconsistencies, terminal keys, wake-up log",
    compatibleFrom: "0.1.0",
    sql: `
CREATE TABLE {{schema}}converge_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  acquired_at INTEGER NOT NULL
);
CREATE TABLE {{schema}}converge_inconsistencies (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  converger TEXT NOT NULL,
  key TEXT NOT NULL,
  changes TEXT NOT NULL,
  holder TEXT,
  epoch INTEGER,
  at INTEGER NOT NULL
);
CREATE INDEX {{schema}}converge_inconsistencies_converger_at ON {{schema}}converge_inconsistencies (converger, at);
CREATE INDEX {{schema}}converge_inconsistencies_at ON {{schema}}converge_inconsistencies (at);
CREATE TABLE {{schema}}converge_terminal (
  converger TEXT NOT NULL,
  key TEXT NOT NULL,
  version TEXT,
  message TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (converger, key)
);
CREATE TABLE {{schema}}converge_wake (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl TEXT NOT NULL,
  col TEXT NOT NULL,
  key TEXT,
  at INTEGER NOT NULL
);
`,
  },
];
