import { queueArg } from "../args.ts";
import type { QueueSetting } from "../job-model.ts";
import type { PgContext } from "./context.ts";

/** Per-queue settings on PostgreSQL: pause and resume (enforced by the claim, see leases.ts). */

interface QueueRow {
  name: string;
  paused: boolean;
  changed_at: Date;
}

function toSetting(row: QueueRow): QueueSetting {
  return { queue: row.name, paused: row.paused, changedAt: row.changed_at };
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
      RETURNING q.name, q.paused, q.changed_at
    ),
    n AS (
      SELECT pg_notify($3, $1) UNION ALL SELECT pg_notify($4, $1) WHERE NOT $2
    )
    SELECT name, paused, changed_at, (SELECT count(*) FROM n) AS n FROM u`,
    [name, paused, ctx.channels.queues, ctx.channels.jobs],
  );
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
    `SELECT name, paused, changed_at FROM ${ctx.queues} ORDER BY name`,
    [],
  );
  return rows.map(toSetting);
}
