import type { Migration } from "../migration.ts";

/**
 * The converge part's tables on PostgreSQL. `{{schema}}` is replaced by the quoted schema name.
 * Times use the server clock (now()).
 * - converge_leases: one row per converger (holder, fencing epoch, expiry);
 * - converge_inconsistencies: one row per converge call that changed something;
 * - converge_terminal: keys that failed with a terminal error, until they change;
 * - converge_wake(): the trigger function installed on wakeOn tables. It sends
 *   pg_notify(channel, '{"t":"schema.table","c":"column","k":"key"}') at commit, and only when
 *   an UPDATE really changed the row. Arguments: channel, key column ('' for sweep-only).
 *
 * @example
 * ```ts
 * const sql = CONVERGE_MIGRATIONS[0]!.sql.replaceAll("{{schema}}", '"tend"');
 * ```
 */
export const CONVERGE_MIGRATIONS: Migration[] = [
  {
    component: "converge",
    version: 1,
    name: "converge: leases, inconsistencies, terminal keys, wake-up trigger function",
    compatibleFrom: "0.1.0",
    sql: `
CREATE TABLE {{schema}}.converge_leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  epoch bigint NOT NULL,
  expires_at timestamptz NOT NULL,
  acquired_at timestamptz NOT NULL
);
CREATE TABLE {{schema}}.converge_inconsistencies (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  converger text NOT NULL,
  key text NOT NULL,
  changes jsonb NOT NULL,
  holder text,
  epoch bigint,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX converge_inconsistencies_converger_at ON {{schema}}.converge_inconsistencies (converger, at);
CREATE INDEX converge_inconsistencies_at ON {{schema}}.converge_inconsistencies (at);
CREATE TABLE {{schema}}.converge_terminal (
  converger text NOT NULL,
  key text NOT NULL,
  version text,
  message text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (converger, key)
);
CREATE FUNCTION {{schema}}.converge_wake() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  k text;
BEGIN
  IF TG_OP = 'UPDATE' AND to_jsonb(OLD) = to_jsonb(NEW) THEN
    RETURN NULL;
  END IF;
  IF TG_ARGV[1] <> '' THEN
    IF TG_OP = 'DELETE' THEN
      k := to_jsonb(OLD) ->> TG_ARGV[1];
    ELSE
      k := to_jsonb(NEW) ->> TG_ARGV[1];
    END IF;
  END IF;
  PERFORM pg_notify(TG_ARGV[0], json_build_object('t', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'c', TG_ARGV[1], 'k', k)::text);
  RETURN NULL;
END
$fn$;
`,
  },
];
