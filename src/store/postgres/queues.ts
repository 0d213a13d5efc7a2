import { queueArg } from "../args.ts";
import type { QueueLimitsChange, QueueSetting } from "../job-model.ts";
import { checkQueueLimits } from "../queue-limits.ts";
import type { PgContext } from "./context.ts";
import { forgetProbe } from "./limited-claim.ts";

/**
 * Per-queue settings on PostgreSQL: pause and resume (enforced by the claim, see leases.ts), and
 * limits (enforced by the capped claim, see capped-claim.ts).
 */

interface QueueRow {
  name: string;
  paused: boolean;
  changed_at: Date;
  concurrency_limit: number | null;
  rate_limit: number | null;
  rate_period_ms: number | null;
}

const COLUMNS = "name, paused, changed_at, concurrency_limit, rate_limit, rate_period_ms";

function toSetting(row: QueueRow): QueueSetting {
  return {
    queue: row.name,
    paused: row.paused,
    changedAt: row.changed_at,
    concurrencyLimit: row.concurrency_limit,
    rateLimit:
      row.rate_limit === null || row.rate_period_ms === null
        ? null
        : { limit: row.rate_limit, periodMs: row.rate_period_ms },
  };
}

/**
 * Sets a queue's paused flag in one statement and notifies the `queues` channel (and, on resume,
 * the `jobs` channel, which wakes the queue's claim loops) at commit. `changed_at` moves only when
 * the flag changes.
 *
 * @example
 * ```ts
 * const setting = await setQueuePaused(ctx, "emails", true);
 * ```
 */
export async function setQueuePaused(ctx: PgContext, queue: string, paused: boolean): Promise<QueueSetting> {
  const name = queueArg(queue);
  const { rows } = await ctx.run<QueueRow>(
    paused ? "queue_pause" : "queue_resume",
    `WITH u AS (
      INSERT INTO ${ctx.queues} AS q (name, paused, changed_at) VALUES ($1, $2, now())
      ON CONFLICT (name) DO UPDATE SET paused = EXCLUDED.paused,
        changed_at = CASE WHEN q.paused = EXCLUDED.paused THEN q.changed_at ELSE now() END
      RETURNING q.name, q.paused, q.changed_at, q.concurrency_limit, q.rate_limit, q.rate_period_ms
    ),
    n AS (
      SELECT pg_notify($3, $1) UNION ALL SELECT pg_notify($4, $1) WHERE NOT $2
    )
    SELECT ${COLUMNS}, (SELECT count(*) FROM n) AS n FROM u`,
    [name, paused, ctx.channels.queues, ctx.channels.jobs],
  );
  return toSetting(rows[0]!);
}

/**
 * Sets or clears a queue's limits in one statement (a field left out of `change` is kept) and
 * wakes the queue's claim loops (`jobs` channel) at commit. Other processes apply the change at
 * their next probe of the queue (within a second, see limited-claim.ts).
 *
 * @example
 * ```ts
 * const setting = await setQueueLimits(ctx, "emails", { concurrency: 5, rate: { limit: 10, periodMs: 1_000 } });
 * ```
 */
export async function setQueueLimits(
  ctx: PgContext,
  queue: string,
  change: QueueLimitsChange,
): Promise<QueueSetting> {
  const name = queueArg(queue);
  const c = checkQueueLimits(change);
  const { rows } = await ctx.run<QueueRow>(
    "queue_limits",
    `WITH u AS (
      INSERT INTO ${ctx.queues} AS q (name, paused, changed_at, concurrency_limit, rate_limit, rate_period_ms)
      VALUES ($1, false, now(), $3::integer, $5::integer, $6::integer)
      ON CONFLICT (name) DO UPDATE SET
        concurrency_limit = CASE WHEN $2 THEN EXCLUDED.concurrency_limit ELSE q.concurrency_limit END,
        rate_limit = CASE WHEN $4 THEN EXCLUDED.rate_limit ELSE q.rate_limit END,
        rate_period_ms = CASE WHEN $4 THEN EXCLUDED.rate_period_ms ELSE q.rate_period_ms END
      RETURNING q.name, q.paused, q.changed_at, q.concurrency_limit, q.rate_limit, q.rate_period_ms
    ),
    n AS (SELECT pg_notify($7, $1))
    SELECT ${COLUMNS}, (SELECT count(*) FROM n) AS n FROM u`,
    [name, c.setConcurrency, c.concurrency, c.setRate, c.rateLimit, c.ratePeriodMs, ctx.channels.jobs],
  );
  forgetProbe(ctx, name);
  return toSetting(rows[0]!);
}

/**
 * Every queue with stored settings, by name.
 *
 * @example
 * ```ts
 * const paused = (await listQueueSettings(ctx)).filter((q) => q.paused);
 * ```
 */
export async function listQueueSettings(ctx: PgContext): Promise<QueueSetting[]> {
  const { rows } = await ctx.run<QueueRow>(
    "queue_list",
    `SELECT ${COLUMNS} FROM ${ctx.queues} ORDER BY name`,
    [],
  );
  return rows.map(toSetting);
}

/**
 * Deletes the rate windows that ended (rows written before they recorded their end: a day after
 * their start, the longest window). A window still running is kept, so its starts keep counting.
 *
 * @example
 * ```ts
 * const deleted = await pruneRateWindows(ctx);
 * ```
 */
export async function pruneRateWindows(ctx: PgContext): Promise<number> {
  const { rows } = await ctx.run<{ n: number }>(
    "prune_rate_windows",
    `WITH d AS (
      DELETE FROM ${ctx.rateWindows}
      WHERE COALESCE(window_end, window_start + interval '24 hours') < now()
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM d`,
    [],
  );
  return rows[0]?.n ?? 0;
}
