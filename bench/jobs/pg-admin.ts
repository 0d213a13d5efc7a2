import { randomBytes } from "node:crypto";
import pg from "pg";
import { onCleanup } from "./cleanup.ts";

/** The server's admin URL: TEND_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/test. */
export function adminUrl(): string {
  const fromEnv = process.env["TEND_TEST_POSTGRES_URL"];
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : "postgres://postgres@127.0.0.1:5432/test";
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates a fresh, empty database `tend_bench_<random>` and registers its drop (with FORCE, so
 * leftover connections never keep it alive). Returns its URL and the drop function.
 */
export async function freshDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `tend_bench_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const drop = onCleanup(`drop database ${name}`, () =>
    admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  );
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop };
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
