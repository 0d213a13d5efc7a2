/**
 * A fresh database for one run (a new PostgreSQL database, or an SQLite file in a new temp
 * folder), and the harness's own reads of it: ANALYZE, and how many jobs are done, through the
 * system's tables (bench/jobs/catalogue.ts), never through the system's code.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import type { DoneQuery, Driver } from "./catalogue.ts";
import { onCleanup } from "./cleanup.ts";
import { freshDatabase, queryOnce } from "./pg-admin.ts";

export interface BenchDatabase {
  driver: Driver;
  /** `postgres://...` or `sqlite:<path>`. */
  url: string;
  /** The PostgreSQL database name (to find its backends), or the SQLite file's path. */
  name: string;
  drop(): Promise<void>;
}

export async function benchDatabase(driver: Driver): Promise<BenchDatabase> {
  if (driver === "postgres") return { driver, ...(await freshDatabase()) };
  const dir = await mkdtemp(join(tmpdir(), "tend-bench-"));
  const drop = onCleanup(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "jobs.db");
  return { driver, url: `sqlite:${path}`, name: path, drop };
}

/** ANALYZE of one table (PostgreSQL). */
export async function analyze(db: BenchDatabase, table: string): Promise<void> {
  await queryOnce(db.url, `ANALYZE ${table}`);
}

async function countOnce(db: BenchDatabase, sql: string): Promise<number> {
  if (db.driver === "postgres") return (await queryOnce<{ n: number }>(db.url, sql))[0]!.n;
  const file = new DatabaseSync(db.name, { readOnly: true });
  try {
    return Number((file.prepare(sql).get() as { n: number | bigint }).n);
  } finally {
    file.close();
  }
}

/**
 * Polls until the database records all `n` jobs done. Called once every handler ran, so it costs
 * nothing while the system works; it waits only for the last completions to be written.
 */
export async function untilDone(db: BenchDatabase, done: DoneQuery, n: number, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const count = await countOnce(db, done.sql);
    const finished = done.counts === "completed" ? count : n - count;
    if (finished >= n) return;
    if (performance.now() > deadline)
      throw new Error(`${finished} of ${n} jobs recorded done within ${timeoutMs} ms`);
    await sleep(2);
  }
}
