import { checkDate } from "../../errors/index.ts";
import { DEFAULT_MAX_LOST, type NewJob } from "../job-model.ts";
import { BLOCKING, type PgContext } from "./context.ts";

/**
 * Records cron tick `tickAt` of `name` and inserts `job`, in one statement, only if no tick at
 * or after `tickAt` was recorded. Concurrent callers serialise on the cron row, so exactly one
 * wins. Returns true when this call recorded the tick.
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
  const { rows } = await ctx.run<{ ticked: number }>(
    "cron_tick",
    `WITH t AS (
      INSERT INTO ${ctx.cron} AS c (name, last_tick) VALUES ($1, $2)
      ON CONFLICT (name) DO UPDATE SET last_tick = EXCLUDED.last_tick WHERE c.last_tick < EXCLUDED.last_tick
      RETURNING 1
    ),
    ins AS (
      INSERT INTO ${ctx.jobs} (kind, queue, payload, priority, state, run_at, max_attempts, unique_key, batch_id, batch_index, max_lost)
      SELECT $3, $4, $5::jsonb, $6, CASE WHEN $7::timestamptz > statement_timestamp() THEN 'scheduled' ELSE 'available' END,
        $7, $8, $9, $10, $11, $12
      FROM t
      ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ${BLOCKING} DO NOTHING
      RETURNING id
    )
    SELECT (SELECT count(*) FROM t)::int AS ticked`,
    [
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
    ],
  );
  return (rows[0]?.ticked ?? 0) > 0;
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
