import type { Migration } from "../migration.ts";

/**
 * The fleet of supervisor masters on PostgreSQL: one row per running `tend supervise`, refreshed
 * by its heartbeat; a row whose expires_at has passed is a dead master.
 *
 * @example
 * ```ts
 * const sql = FLEET_MIGRATIONS[0]!.sql.replaceAll("{{schema}}", '"tend"');
 * ```
 */
export const FLEET_MIGRATIONS: Migration[] = [
  {
    component: "fleet",
    version: 1,
    name: "fleet: masters of tend supervise, with heartbeats",
    compatibleFrom: "0.1.0",
    sql: `
CREATE TABLE {{schema}}.masters (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  program text NOT NULL,
  min integer NOT NULL,
  max integer NOT NULL,
  desired integer NOT NULL,
  workers jsonb NOT NULL DEFAULT '[]'::jsonb,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
`,
  },
];
