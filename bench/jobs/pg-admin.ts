import { randomBytes } from "node:crypto";
import pg from "pg";
import { postgresUrl, withAdmin, withDatabase } from "../../test/support/postgres.ts";
import { onCleanup } from "./cleanup.ts";

/**
 * Creates a fresh, empty database `tend_bench_<random>` and registers its drop (with FORCE, so
 * leftover connections never keep it alive). Returns its URL and the drop function.
 */
export async function freshDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `tend_bench_${randomBytes(6).toString("hex")}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  const drop = onCleanup(`drop database ${name}`, () =>
    withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  );
  return { url: withDatabase(postgresUrl(), name), name, drop };
}

/** Runs one statement on `url` with its own connection (ANALYZE, counts). */
export async function queryOnce<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Flushes the server's dirty pages (CHECKPOINT) so that a timed phase is not charged for a
 * checkpoint caused by the writes of whatever ran before it. Needs superuser (the bench's admin URL).
 */
export async function checkpoint(): Promise<void> {
  await withAdmin((c) => c.query("CHECKPOINT"));
}
