import type { Migration } from "../migration.ts";

/**
 * The processes component on PostgreSQL: one row per running tend process (see ProcessRegistry),
 * leases timed by the database's clock so machines whose clocks differ agree on who is alive.
 *
 * @example
 * ```ts
 * const sql = PROCESS_MIGRATIONS[0]!.sql.replaceAll("{{schema}}", '"tend"');
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
CREATE TABLE {{schema}}.processes (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  program text NOT NULL,
  version text NOT NULL,
  master_pid integer,
  queues jsonb NOT NULL DEFAULT '[]'::jsonb,
  concurrency integer NOT NULL DEFAULT 0,
  in_flight integer NOT NULL DEFAULT 0,
  rss_bytes bigint NOT NULL DEFAULT 0,
  heap_used_bytes bigint NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
`,
  },
  {
    component: "processes",
    version: 2,
    name: "processes: a supervised worker's slot restarts",
    // A nullable column older code neither writes nor reads: every 0.x binary works on it.
    compatibleFrom: "0.1.0",
    sql: `ALTER TABLE {{schema}}.processes ADD COLUMN restarts integer;`,
  },
];
