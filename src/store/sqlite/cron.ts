import { checkDate, checkOneOf, checkString } from "../../errors/index.ts";
import {
  checkCronEntry,
  CRON_OVERLAPS,
  type CronEntryDefinition,
  type CronEntryState,
  type CronOverlap,
  type CronTickResult,
} from "../cron-model.ts";
import type { JobState, NewJob } from "../job-model.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import { insertJobs } from "./insert.ts";
import type { Row } from "./rows.ts";

const BLOCKING = "('scheduled', 'available', 'running', 'retryable')";

/**
 * Records a cron tick and inserts its job in one transaction, unless that tick or a later one was
 * recorded. Enqueues whatever the entry's pause and the previous job say (overlap `allow`).
 *
 * @example
 * ```ts
 * const enqueued = await enqueueCronTick(ctx, "nightly", tickAt, job);
 * ```
 */
export async function enqueueCronTick(
  ctx: SqliteContext,
  name: string,
  tickAt: Date,
  job: NewJob,
): Promise<boolean> {
  return (await cronTick(ctx, name, tickAt, job, "allow")).outcome === "enqueued";
}

/**
 * One cron tick under the write lock (see JobStore.cronTick): record it, then enqueue its job
 * unless the entry is paused or (overlap `skip`) the last tick's job is still pending or running.
 *
 * @example
 * ```ts
 * const { outcome } = await cronTick(ctx, "nightly", tickAt, job, "skip");
 * ```
 */
export async function cronTick(
  ctx: SqliteContext,
  name: string,
  tickAt: Date,
  job: NewJob,
  overlap: CronOverlap,
): Promise<CronTickResult> {
  const { cron, cronEntries, jobs } = ctx.t;
  const tick = checkDate("TEND_E_INVALID_STORE_ARGUMENT", "tickAt", tickAt).getTime();
  checkOneOf("TEND_E_INVALID_STORE_ARGUMENT", "overlap", overlap, CRON_OVERLAPS);
  const record = ctx.stmt(
    `INSERT INTO ${cron} (name, last_tick) VALUES (?1, ?2)
       ON CONFLICT (name) DO UPDATE SET last_tick = excluded.last_tick WHERE last_tick < excluded.last_tick
     RETURNING last_job_id`,
  );
  const paused = ctx.stmt(`SELECT paused FROM ${cronEntries} WHERE name = ?`);
  const busy = ctx.stmt(`SELECT id FROM ${jobs} WHERE id = ? AND state IN ${BLOCKING}`);
  const countSkip = ctx.stmt(
    `UPDATE ${cronEntries} SET skipped = skipped + 1, last_skipped_at = ?1 WHERE name = ?2`,
  );
  const setJob = ctx.stmt(`UPDATE ${cron} SET last_job_id = ?1 WHERE name = ?2`);
  let wakeups: Wakeup[] = [];
  const result = await ctx.write((): CronTickResult => {
    const recorded = record.get(String(name), tick) as Row | undefined;
    if (recorded === undefined) return { outcome: "taken", jobId: null };
    const entry = paused.get(String(name)) as Row | undefined;
    if (entry !== undefined && Number(entry["paused"]) !== 0) return { outcome: "paused", jobId: null };
    const last = recorded["last_job_id"];
    if (overlap === "skip" && last !== null && last !== undefined) {
      const holder = busy.get(last as number) as Row | undefined;
      if (holder !== undefined) {
        countSkip.run(tick, String(name));
        return { outcome: "skipped", jobId: String(holder["id"]) };
      }
    }
    const inserted = insertJobs(ctx, ctx.db, [job]);
    wakeups = inserted.wakeups;
    const id = inserted.results[0]!.id;
    setJob.run(Number(id), String(name));
    return { outcome: "enqueued", jobId: id };
  });
  ctx.emit(wakeups);
  return result;
}

/**
 * The last recorded tick of a cron schedule, or null.
 *
 * @example
 * ```ts
 * const last = lastCronTick(ctx, "nightly");
 * ```
 */
export function lastCronTick(ctx: SqliteContext, name: string): Date | null {
  const row = ctx.stmt(`SELECT last_tick FROM ${ctx.t.cron} WHERE name = ?`).get(name) as Row | undefined;
  return row === undefined ? null : new Date(Number(row["last_tick"]));
}

/**
 * Registers cron entries (see JobStore.registerCron): their definition is replaced, their pause
 * and history kept.
 *
 * @example
 * ```ts
 * await registerCron(ctx, [{ name: "nightly", kind: "purge", expression: "0 3 * * *", timezone: null, overlap: "skip" }]);
 * ```
 */
export async function registerCron(
  ctx: SqliteContext,
  entries: readonly CronEntryDefinition[],
): Promise<void> {
  if (entries.length === 0) return;
  for (const e of entries) checkCronEntry(e);
  const upsert = ctx.stmt(
    `INSERT INTO ${ctx.t.cronEntries} (name, kind, expression, timezone, overlap, registered_at, last_seen_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
     ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, expression = excluded.expression,
       timezone = excluded.timezone, overlap = excluded.overlap, registered_at = excluded.registered_at,
       last_seen_at = excluded.last_seen_at`,
  );
  await ctx.write(() => {
    const now = ctx.now();
    for (const e of entries) upsert.run(e.name, e.kind, e.expression, e.timezone, e.overlap, now);
  });
}

/**
 * Every registered cron entry with its state, by name.
 *
 * @example
 * ```ts
 * for (const entry of listCron(ctx)) console.log(entry.name, entry.paused);
 * ```
 */
export function listCron(ctx: SqliteContext): CronEntryState[] {
  const rows = ctx
    .stmt(
      `SELECT e.name, e.kind, e.expression, e.timezone, e.overlap, e.paused, e.registered_at,
              COALESCE(e.last_seen_at, e.registered_at) AS last_seen_at, e.skipped,
              e.last_skipped_at, c.last_tick, c.last_job_id, j.state AS last_job_state
         FROM ${ctx.t.cronEntries} e
         LEFT JOIN ${ctx.t.cron} c ON c.name = e.name
         LEFT JOIN ${ctx.t.jobs} j ON j.id = c.last_job_id
        ORDER BY e.name`,
    )
    .all() as Row[];
  return rows.map((r) => ({
    name: String(r["name"]),
    kind: String(r["kind"]),
    expression: String(r["expression"]),
    timezone: r["timezone"] == null ? null : String(r["timezone"]),
    overlap: String(r["overlap"]) as CronOverlap,
    paused: Number(r["paused"]) !== 0,
    registeredAt: new Date(Number(r["registered_at"])),
    lastSeenAt: new Date(Number(r["last_seen_at"])),
    lastTick: r["last_tick"] == null ? null : new Date(Number(r["last_tick"])),
    lastJobId: r["last_job_id"] == null ? null : String(r["last_job_id"]),
    lastJobState: r["last_job_state"] == null ? null : (String(r["last_job_state"]) as JobState),
    skipped: Number(r["skipped"]),
    lastSkippedAt: r["last_skipped_at"] == null ? null : new Date(Number(r["last_skipped_at"])),
  }));
}

/**
 * Pauses or resumes a registered entry; false when there is none of that name.
 *
 * @example
 * ```ts
 * await setCronPaused(ctx, "nightly", true);
 * ```
 */
export async function setCronPaused(ctx: SqliteContext, name: string, paused: boolean): Promise<boolean> {
  checkString("TEND_E_INVALID_STORE_ARGUMENT", "name", name);
  const stmt = ctx.stmt(`UPDATE ${ctx.t.cronEntries} SET paused = ? WHERE name = ? RETURNING name`);
  return await ctx.write(() => stmt.get(paused ? 1 : 0, name) !== undefined);
}

/**
 * Records that this process schedules these entries now (see JobStore.touchCron).
 *
 * @example
 * ```ts
 * await touchCron(ctx, [{ name: "nightly", kind: "purge", expression: "0 3 * * *", timezone: null, overlap: "skip" }]);
 * ```
 */
export async function touchCron(ctx: SqliteContext, entries: readonly CronEntryDefinition[]): Promise<void> {
  if (entries.length === 0) return;
  for (const e of entries) checkCronEntry(e);
  const upsert = ctx.stmt(
    `INSERT INTO ${ctx.t.cronEntries} (name, kind, expression, timezone, overlap, registered_at, last_seen_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
     ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
  );
  await ctx.write(() => {
    const now = ctx.now();
    for (const e of entries) upsert.run(e.name, e.kind, e.expression, e.timezone, e.overlap, now);
  });
}

/**
 * Deletes the entries last seen before `seenBefore` (see JobStore.pruneCron); returns their names.
 *
 * @example
 * ```ts
 * const gone = await pruneCron(ctx, new Date(Date.now() - 3_600_000));
 * ```
 */
export async function pruneCron(ctx: SqliteContext, seenBefore: Date): Promise<string[]> {
  const before = checkDate("TEND_E_INVALID_STORE_ARGUMENT", "seenBefore", seenBefore).getTime();
  const stmt = ctx.stmt(
    `DELETE FROM ${ctx.t.cronEntries} WHERE COALESCE(last_seen_at, registered_at) < ? RETURNING name`,
  );
  const rows = await ctx.write(() => stmt.all(before) as Row[]);
  return rows.map((r) => String(r["name"])).sort();
}
