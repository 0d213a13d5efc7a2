import type { Migration } from "../migration.ts";

/**
 * The processes component on SQLite: one row per running tend process (see ProcessRegistry).
 * `{{schema}}` is the table prefix; times are INTEGER milliseconds.
 *
 * @example
 * ```ts
 * const sql = PROCESS_MIGRATIONS[0]!.sql.replaceAll("{{schema}}", "tend_");
 * ```
 */
export const PROCESS_MIGRATIONS: Migration[] = [
  {
    component: "processes",
    version: 1,
    name: "processes: registry of running tend processes, with heartbeats",
    // A new table older code never reads: every 0.x binary works on it.
    compatibleFrom: "0.1.0",
    sql: `
CREATE TABLE {{schema}}processes (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  program TEXT NOT NULL,
  version TEXT NOT NULL,
  master_pid INTEGER,
  queues TEXT NOT NULL DEFAULT '[]',
  concurrency INTEGER NOT NULL DEFAULT 0,
  in_flight INTEGER NOT NULL DEFAULT 0,
  rss_bytes INTEGER NOT NULL DEFAULT 0,
  heap_used_bytes INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
`,
  },
  {
    component: "processes",
    version: 2,
    name: "processes: a supervised worker's slot restarts",
    // A nullable column older code neither writes nor reads: every 0.x binary works on it.
    compatibleFrom: "0.1.0",
    sql: `ALTER TABLE {{schema}}processes ADD COLUMN restarts INTEGER;`,
  },
];
