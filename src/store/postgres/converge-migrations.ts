import type { Migration } from "../migration.ts";

/**
 * The converge part's tables on PostgreSQL. `{{schema}}` is replaced by the quoted schema name.
 * Times use the server clock (now()).
 * - converge_leases: one row per converger (holder, fencing epoch, expiry);
 * - converge_inconsistencies: one row per converge call that changed something;
 * - converge_terminal: keys that failed with a terminal error, until they change;
 * - converge_wake(): the trigger function installed on wakeOn tables. It sends
 *   pg_notify(channel, '{"t":"schema.table","c":"column","k":"key"}') at commit, and only when
 *   an UPDATE really changed the row. Arguments: channel, key column ('' for sweep-only). Since
 *   version 2, a key longer than tend's key limit (512 characters), or one whose notification
 *   would pass PostgreSQL's 8000-byte payload limit, is sent with `"k":null` (a sweep), so that
 *   the application's write never fails because of its wake-up.
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
  {
    component: "converge",
    version: 2,
    name: "converge: a wake-up whose key is too long for a key or a notification asks for a sweep",
    // The same function, redefined in place (its triggers call it by name): every 0.x binary
    // reads its notifications, a null key being the sweep form it always understood.
    compatibleFrom: "0.1.0",
    sql: `
CREATE OR REPLACE FUNCTION {{schema}}.converge_wake() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  k text;
  payload text;
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
  -- tend's keys are at most 512 characters: a longer one cannot be converged by itself, and may
  -- not fit in a notification (payloads must be under 8000 bytes). Either way the wake-up asks
  -- for a sweep (a null key), so that the write that fired the trigger never fails.
  IF char_length(k) > 512 THEN
    k := NULL;
  END IF;
  payload := json_build_object('t', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'c', TG_ARGV[1], 'k', k)::text;
  IF octet_length(payload) >= 8000 THEN
    payload := json_build_object('t', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'c', TG_ARGV[1], 'k', NULL)::text;
  END IF;
  PERFORM pg_notify(TG_ARGV[0], payload);
  RETURN NULL;
END
$fn$;
`,
  },
];
