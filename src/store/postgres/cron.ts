import { checkDate, checkOneOf, checkString } from "../../errors/index.ts";
import {
  checkCronEntry,
  CRON_OVERLAPS,
  type CronEntryDefinition,
  type CronEntryState,
  type CronOverlap,
  type CronTickOutcome,
  type CronTickResult,
} from "../cron-model.ts";
import { DEFAULT_MAX_LOST, type JobState, type NewJob } from "../job-model.ts";
import { BLOCKING, type PgContext } from "./context.ts";
import { LIMIT_COLUMNS, limitColumns } from "./insert-columns.ts";
import { inPooledTransaction } from "./pool.ts";

/**
 * Records cron tick `tickAt` of `name` and inserts `job` (see {@link cronTick}, overlap `allow`).
 * Returns true when this call enqueued the job.
 *
 * @example
 * ```ts
 * const won = await enqueueCronTick(ctx, "nightly", tick, job);
 * ```
 */
export async function enqueueCronTick(
  ctx: PgContext,
  name: string,
  tickAt: Date,
  job: NewJob,
): Promise<boolean> {
  return (await cronTick(ctx, name, tickAt, job, "allow")).outcome === "enqueued";
}

/**
 * One cron tick in one statement (see JobStore.cronTick). The job's id is drawn first, so that
 * the tick's row records it in the same upsert that records the tick (a row is changed once per
 * statement). Concurrent callers serialise on the cron row: the second finds the tick recorded
 * (`taken`). The previous job's state is read in the statement's snapshot: a job that finished
 * while the statement started may still count as in the way, never the other way round. Ticks
 * with overlap "skip" run in a transaction that first takes the schedule's advisory lock, so that
 * their snapshot comes after any other tick of the schedule committed.
 *
 * @example
 * ```ts
 * const { outcome, jobId } = await cronTick(ctx, "nightly", tick, job, "skip");
 * ```
 */
export async function cronTick(
  ctx: PgContext,
  name: string,
  tickAt: Date,
  job: NewJob,
  overlap: CronOverlap,
): Promise<CronTickResult> {
  checkOneOf("TEND_E_INVALID_STORE_ARGUMENT", "overlap", overlap, CRON_OVERLAPS);
  const text = `WITH nid AS (SELECT nextval('${ctx.jobs}_id_seq') AS id),
    prev AS (SELECT c.last_job_id FROM ${ctx.cron} c WHERE c.name = $1),
    e AS (SELECT paused FROM ${ctx.cronEntries} WHERE name = $1),
    busy AS (
      SELECT j.id FROM prev JOIN ${ctx.jobs} j ON j.id = prev.last_job_id
      WHERE $13::text = 'skip' AND j.state IN ${BLOCKING}
    ),
    go AS (
      SELECT CASE WHEN EXISTS (SELECT 1 FROM e WHERE e.paused) THEN 'paused'
        WHEN EXISTS (SELECT 1 FROM busy) THEN 'skipped' ELSE 'enqueued' END AS outcome
    ),
    t AS (
      INSERT INTO ${ctx.cron} AS c (name, last_tick, last_job_id)
      SELECT $1, $2, CASE WHEN go.outcome = 'enqueued' THEN nid.id END FROM go, nid
      ON CONFLICT (name) DO UPDATE SET last_tick = EXCLUDED.last_tick,
        last_job_id = COALESCE(EXCLUDED.last_job_id, c.last_job_id)
        WHERE c.last_tick < EXCLUDED.last_tick
      RETURNING 1
    ),
    ins AS (
      INSERT INTO ${ctx.jobs} (id, kind, queue, payload, priority, state, run_at, max_attempts, unique_key, batch_id, batch_index, max_lost,
        ${LIMIT_COLUMNS.join(", ")})
      SELECT nid.id, $3, $4, $5::jsonb, $6, CASE WHEN $7::timestamptz > statement_timestamp() THEN 'scheduled' ELSE 'available' END,
        $7, $8, $9, $10, $11, $12, $14, $15, $16::integer, $17, $18::integer, $19::integer
      FROM nid, go WHERE go.outcome = 'enqueued' AND EXISTS (SELECT 1 FROM t)
      RETURNING id
    ),
    skip AS (
      UPDATE ${ctx.cronEntries} SET skipped = skipped + 1, last_skipped_at = $2
      WHERE name = $1 AND EXISTS (SELECT 1 FROM t) AND (SELECT outcome FROM go) = 'skipped'
      RETURNING 1
    )
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM t) THEN 'taken' ELSE go.outcome END AS outcome,
      CASE WHEN NOT EXISTS (SELECT 1 FROM t) THEN NULL
        WHEN go.outcome = 'enqueued' THEN (SELECT id::text FROM ins)
        WHEN go.outcome = 'skipped' THEN (SELECT id::text FROM busy LIMIT 1) END AS job_id,
      (SELECT count(*) FROM skip) AS n
    FROM go`;
  const values = [
    String(name),
    checkDate("TEND_E_INVALID_STORE_ARGUMENT", "tickAt", tickAt),
    job.kind,
    job.queue,
    job.payload,
    job.priority,
    job.runAt,
    job.maxAttempts,
    job.uniqueKey,
    job.batchId,
    job.batchIndex,
    job.maxLost ?? DEFAULT_MAX_LOST,
    overlap,
    ...limitColumns(job),
  ];
  type TickRow = { outcome: CronTickOutcome; job_id: string | null };
  // "skip" reads whether the previous tick's job is still in the way: in the statement's snapshot,
  // taken before it would wait for the cron row's lock, a tick committed meanwhile by another
  // process (its job still pending) would be missed and both would enqueue. Such ticks first take
  // the schedule's transaction-level lock in a statement of their own, so that the tick's
  // statement starts after any other tick of the schedule committed.
  const { rows } =
    overlap === "skip"
      ? await inPooledTransaction(ctx.pool, async (client) => {
          await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
            `${ctx.schema}.cron.${String(name)}`,
          ]);
          return client.query<TickRow>({ name: `tend.${ctx.schema}.cron_tick`, text, values });
        })
      : await ctx.run<TickRow>("cron_tick", text, values);
  const row = rows[0];
  return { outcome: row?.outcome ?? "taken", jobId: row?.job_id ?? null };
}

/**
 * The last recorded tick of a schedule, or null.
 *
 * @example
 * ```ts
 * const last = await lastCronTick(ctx, "nightly");
 * ```
 */
export async function lastCronTick(ctx: PgContext, name: string): Promise<Date | null> {
  const { rows } = await ctx.run<{ last_tick: Date }>(
    "cron_last",
    `SELECT last_tick FROM ${ctx.cron} WHERE name = $1`,
    [String(name)],
  );
  return rows[0]?.last_tick ?? null;
}

/**
 * Registers cron entries (see JobStore.registerCron), in one statement: their definition is
 * replaced, their pause and history kept.
 *
 * @example
 * ```ts
 * await registerCron(ctx, [{ name: "nightly", kind: "purge", expression: "0 3 * * *", timezone: null, overlap: "skip" }]);
 * ```
 */
export async function registerCron(ctx: PgContext, entries: readonly CronEntryDefinition[]): Promise<void> {
  if (entries.length === 0) return;
  for (const e of entries) checkCronEntry(e);
  await ctx.run(
    "cron_register",
    `INSERT INTO ${ctx.cronEntries} (name, kind, expression, timezone, overlap, registered_at, last_seen_at)
     SELECT * , now(), now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
     ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, expression = EXCLUDED.expression,
       timezone = EXCLUDED.timezone, overlap = EXCLUDED.overlap, registered_at = EXCLUDED.registered_at,
       last_seen_at = EXCLUDED.last_seen_at`,
    [
      entries.map((e) => e.name),
      entries.map((e) => e.kind),
      entries.map((e) => e.expression),
      entries.map((e) => e.timezone),
      entries.map((e) => e.overlap),
    ],
  );
}

interface EntryRow {
  name: string;
  kind: string;
  expression: string;
  timezone: string | null;
  overlap: CronOverlap;
  paused: boolean;
  registered_at: Date;
  last_seen_at: Date;
  skipped: string;
  last_skipped_at: Date | null;
  last_tick: Date | null;
  last_job_id: string | null;
  last_job_state: JobState | null;
}

/**
 * Every registered cron entry with its state, by name.
 *
 * @example
 * ```ts
 * const entries = await listCron(ctx);
 * ```
 */
export async function listCron(ctx: PgContext): Promise<CronEntryState[]> {
  const { rows } = await ctx.run<EntryRow>(
    "cron_list",
    `SELECT e.name, e.kind, e.expression, e.timezone, e.overlap, e.paused, e.registered_at,
        COALESCE(e.last_seen_at, e.registered_at) AS last_seen_at, e.skipped,
        e.last_skipped_at, c.last_tick, c.last_job_id::text AS last_job_id, j.state AS last_job_state
     FROM ${ctx.cronEntries} e
     LEFT JOIN ${ctx.cron} c ON c.name = e.name
     LEFT JOIN ${ctx.jobs} j ON j.id = c.last_job_id
     ORDER BY e.name`,
    [],
  );
  return rows.map((r) => ({
    name: r.name,
    kind: r.kind,
    expression: r.expression,
    timezone: r.timezone,
    overlap: r.overlap,
    paused: r.paused,
    registeredAt: r.registered_at,
    lastSeenAt: r.last_seen_at,
    lastTick: r.last_tick,
    lastJobId: r.last_job_id,
    lastJobState: r.last_job_state,
    skipped: Number(r.skipped),
    lastSkippedAt: r.last_skipped_at,
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
export async function setCronPaused(ctx: PgContext, name: string, paused: boolean): Promise<boolean> {
  checkString("TEND_E_INVALID_STORE_ARGUMENT", "name", name);
  const { rowCount } = await ctx.run(
    "cron_pause",
    `UPDATE ${ctx.cronEntries} SET paused = $2 WHERE name = $1`,
    [name, paused === true],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Records that this process schedules these entries now (see JobStore.touchCron).
 *
 * @example
 * ```ts
 * await touchCron(ctx, [{ name: "nightly", kind: "purge", expression: "0 3 * * *", timezone: null, overlap: "skip" }]);
 * ```
 */
export async function touchCron(ctx: PgContext, entries: readonly CronEntryDefinition[]): Promise<void> {
  if (entries.length === 0) return;
  for (const e of entries) checkCronEntry(e);
  await ctx.run(
    "cron_touch",
    `INSERT INTO ${ctx.cronEntries} (name, kind, expression, timezone, overlap, registered_at, last_seen_at)
     SELECT *, now(), now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
     ON CONFLICT (name) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at`,
    [
      entries.map((e) => e.name),
      entries.map((e) => e.kind),
      entries.map((e) => e.expression),
      entries.map((e) => e.timezone),
      entries.map((e) => e.overlap),
    ],
  );
}

/**
 * Deletes the entries last seen before `seenBefore` (see JobStore.pruneCron); returns their names.
 *
 * @example
 * ```ts
 * const gone = await pruneCron(ctx, new Date(Date.now() - 3_600_000));
 * ```
 */
export async function pruneCron(ctx: PgContext, seenBefore: Date): Promise<string[]> {
  checkDate("TEND_E_INVALID_STORE_ARGUMENT", "seenBefore", seenBefore);
  const { rows } = await ctx.run<{ name: string }>(
    "cron_prune",
    `DELETE FROM ${ctx.cronEntries} WHERE COALESCE(last_seen_at, registered_at) < $1 RETURNING name`,
    [seenBefore],
  );
  return rows.map((r) => r.name).sort();
}
