import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { createApp } from "../../src/app.ts";
import { createLogger } from "../../src/log/index.ts";
import type { Backend } from "../support/backends.ts";

/**
 * Seeds four jobs on a real database and corrupts three of them with SQL, as a bad migration, a
 * hand edit or a foreign writer could: the renderers must mark the bad values and show the rest.
 */
export interface CorruptRows {
  /** Untouched. */
  good: string;
  /** errors = [{"attempt":1}]: one entry without a message. */
  noMessage: string;
  /** errors = [1, null, "x", <a real error with message "real failure">]. */
  mixed: string;
  /** Times no Date can hold: SQLite text and 1e300, PostgreSQL ±infinity. */
  badTimes: string;
}

const REAL_ERROR = { attempt: 2, at: "2026-01-02T03:04:05.000Z", message: "real failure", code: "TEND_E_X" };

/** Runs one statement on the backend's jobs table (`{jobs}` names it, `$n` are its parameters). */
async function sql(backend: Backend, statement: string, params: unknown[]): Promise<void> {
  if (backend.driver === "sqlite") {
    const db = new DatabaseSync(backend.url.slice("sqlite:".length));
    try {
      db.prepare(statement.replace("{jobs}", "tend_jobs").replace(/\$\d+/g, "?")).run(
        ...(params as Array<string | number | null>),
      );
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: backend.url });
  await client.connect();
  try {
    await client.query(statement.replace("{jobs}", `"tend".jobs`), params);
  } finally {
    await client.end();
  }
}

/**
 * Enqueues four jobs through a real app and corrupts three of them.
 *
 * @example
 * ```ts
 * const rows = await seedCorruptRows(backend);
 * ```
 */
export async function seedCorruptRows(backend: Backend): Promise<CorruptRows> {
  const app = createApp({
    database: backend.url,
    log: createLogger({ level: "silent" }),
    jobs: { queues: {} },
  });
  const ids: string[] = [];
  try {
    for (let i = 0; i < 4; i++) ids.push((await app.enqueue("corrupt.rows", { i })).id);
  } finally {
    await app.close();
  }
  const [good, noMessage, mixed, badTimes] = ids as [string, string, string, string];
  const errors = backend.driver === "sqlite" ? "$1" : "$1::jsonb";
  await sql(backend, `UPDATE {jobs} SET errors = ${errors} WHERE id = $2`, [
    JSON.stringify([{ attempt: 1 }]),
    noMessage,
  ]);
  await sql(backend, `UPDATE {jobs} SET errors = ${errors} WHERE id = $2`, [
    JSON.stringify([1, null, "x", REAL_ERROR]),
    mixed,
  ]);
  if (backend.driver === "sqlite")
    await sql(
      backend,
      "UPDATE {jobs} SET created_at = 'abc', run_at = 1e300, started_at = -1e300, finished_at = 'zzz' WHERE id = $1",
      [badTimes],
    );
  else
    await sql(
      backend,
      "UPDATE {jobs} SET created_at = '-infinity', run_at = 'infinity', started_at = '-infinity', finished_at = 'infinity' WHERE id = $1",
      [badTimes],
    );
  return { good, noMessage, mixed, badTimes };
}
