import type { Migration } from "../migration.ts";

/**
 * The admin component's tables on SQLite: the audit trail of operator actions taken over the
 * admin API. `{{schema}}` is the table prefix. Times are INTEGER milliseconds.
 *
 * @example
 * ```ts
 * const sql = ADMIN_MIGRATIONS[0]!.sql.replaceAll("{{schema}}", "tend_");
 * ```
 */
export const ADMIN_MIGRATIONS: Migration[] = [
  {
    component: "admin",
    version: 1,
    name: "admin: audit trail of operator actions",
    // A new table older code never reads: every 0.x binary works on it.
    compatibleFrom: "0.1.0",
    sql: `
CREATE TABLE {{schema}}admin_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  token_id TEXT,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}'
);
`,
  },
];
