import type { Migration } from "../migration.ts";

/**
 * The admin component's tables on PostgreSQL: the audit trail of operator actions taken over the
 * admin API. `{{schema}}` is the quoted schema.
 *
 * @example
 * ```ts
 * const sql = ADMIN_MIGRATIONS[0]!.sql.replaceAll("{{schema}}", '"tend"');
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
CREATE TABLE {{schema}}.admin_audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  action text NOT NULL,
  target text NOT NULL,
  token_id text,
  outcome text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb
);
`,
  },
];
