import { queueArg } from "../args.ts";
import type { QueueLimitsChange, QueueSetting } from "../job-model.ts";
import { checkQueueLimits, type QueueCap } from "../queue-limits.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import type { Row } from "./rows.ts";

/** Per-queue settings on SQLite: pause and resume, and limits (enforced by the claim, see leases.ts). */

const COLUMNS = "name, paused, changed_at, concurrency_limit, rate_limit, rate_period_ms";

function toSetting(row: Row): QueueSetting {
  return {
    queue: String(row["name"]),
    paused: Number(row["paused"]) !== 0,
    changedAt: new Date(Number(row["changed_at"])),
    concurrencyLimit: row["concurrency_limit"] == null ? null : Number(row["concurrency_limit"]),
    rateLimit:
      row["rate_limit"] == null || row["rate_period_ms"] == null
        ? null
        : { limit: Number(row["rate_limit"]), periodMs: Number(row["rate_period_ms"]) },
  };
}

/**
 * Sets a queue's paused flag in one write transaction; after the commit, notifies `queues` (and,
 * on resume, `jobs`, which wakes the queue's claim loops). `changed_at` moves only when the flag
 * changes. Other processes see the commit through the notifier's change poll.
 *
 * @example
 * ```ts
 * const setting = await setQueuePaused(ctx, "emails", true);
 * ```
 */
export async function setQueuePaused(
  ctx: SqliteContext,
  queue: string,
  paused: boolean,
): Promise<QueueSetting> {
  const name = queueArg(queue);
  const stmt = ctx.stmt(
    `INSERT INTO ${ctx.t.queues} AS q (name, paused, changed_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (name) DO UPDATE SET paused = excluded.paused,
       changed_at = CASE WHEN q.paused = excluded.paused THEN q.changed_at ELSE excluded.changed_at END
     RETURNING ${COLUMNS}`,
  );
  const row = await ctx.write(() => stmt.get(name, paused ? 1 : 0, ctx.now()) as Row);
  const wakeups: Wakeup[] = [{ channel: "queues", payload: name }];
  if (!paused) wakeups.push({ channel: "jobs", payload: name });
  ctx.emit(wakeups);
  return toSetting(row);
}

/**
 * Every queue with stored settings, by name.
 *
 * @example
 * ```ts
 * const paused = listQueueSettings(ctx).filter((q) => q.paused);
 * ```
 */
export function listQueueSettings(ctx: SqliteContext): QueueSetting[] {
  const rows = ctx.stmt(`SELECT ${COLUMNS} FROM ${ctx.t.queues} ORDER BY name`).all() as Row[];
  return rows.map(toSetting);
}

/**
 * Sets or clears a queue's limits in one write transaction (a field left out of `change` is
 * kept); after the commit, wakes the queue's claim loops (`jobs`). Every claim reads the limits
 * in its own write transaction, so the change holds from its commit on.
 *
 * @example
 * ```ts
 * const setting = await setQueueLimits(ctx, "emails", { concurrency: 5 });
 * ```
 */
export async function setQueueLimits(
  ctx: SqliteContext,
  queue: string,
  change: QueueLimitsChange,
): Promise<QueueSetting> {
  const name = queueArg(queue);
  const c = checkQueueLimits(change);
  const stmt = ctx.stmt(
    `INSERT INTO ${ctx.t.queues} AS q (name, paused, changed_at, concurrency_limit, rate_limit, rate_period_ms)
     VALUES (?1, 0, ?2, ?4, ?6, ?7)
     ON CONFLICT (name) DO UPDATE SET
       concurrency_limit = CASE WHEN ?3 THEN excluded.concurrency_limit ELSE q.concurrency_limit END,
       rate_limit = CASE WHEN ?5 THEN excluded.rate_limit ELSE q.rate_limit END,
       rate_period_ms = CASE WHEN ?5 THEN excluded.rate_period_ms ELSE q.rate_period_ms END
     RETURNING ${COLUMNS}`,
  );
  const row = await ctx.write(
    () =>
      stmt.get(
        name,
        ctx.now(),
        c.setConcurrency ? 1 : 0,
        c.concurrency,
        c.setRate ? 1 : 0,
        c.rateLimit,
        c.ratePeriodMs,
      ) as Row,
  );
  ctx.emit([{ channel: "jobs", payload: name }]);
  return toSetting(row);
}

/**
 * A queue's limits and what counts against them at `now`, or null for a queue without limits (one
 * primary-key probe). Runs inside the claim's write transaction.
 *
 * @example
 * ```ts
 * const cap = queueCap(ctx, "emails", Date.now());
 * ```
 */
export function queueCap(ctx: SqliteContext, queue: string, now: number): QueueCap | null {
  const row = ctx
    .stmt(
      `SELECT concurrency_limit, rate_limit, rate_period_ms FROM ${ctx.t.queues}
        WHERE name = ? AND (concurrency_limit IS NOT NULL OR rate_limit IS NOT NULL)`,
    )
    .get(queue) as Row | undefined;
  if (row === undefined) return null;
  const concurrencyLimit = row["concurrency_limit"] == null ? null : Number(row["concurrency_limit"]);
  const period = row["rate_period_ms"] == null ? null : Number(row["rate_period_ms"]);
  const running =
    concurrencyLimit === null
      ? 0
      : Number(
          (
            ctx
              .stmt(`SELECT count(*) AS n FROM ${ctx.t.jobs} WHERE queue = ? AND state = 'running'`)
              .get(queue) as Row
          )["n"],
        );
  let used = 0;
  if (period !== null) {
    const w = ctx
      .stmt(`SELECT started FROM ${ctx.t.rateWindows} WHERE bucket = ? AND window_start = ?`)
      .get(queue, windowStart(now, period)) as Row | undefined;
    used = w === undefined ? 0 : Number(w["started"]);
  }
  return {
    concurrencyLimit,
    running,
    rateLimit: row["rate_limit"] == null ? null : Number(row["rate_limit"]),
    ratePeriodMs: period,
    used,
  };
}

/** Pure: the start of the epoch-aligned window of `periodMs` holding `now`. */
export function windowStart(now: number, periodMs: number): number {
  return Math.floor(now / periodMs) * periodMs;
}

/**
 * Counts `started` starts in a queue's rate window at `now` (bucket: the queue's name). Runs
 * inside the claim's write transaction.
 *
 * @example
 * ```ts
 * countQueueStarts(ctx, "emails", Date.now(), 1_000, 3);
 * ```
 */
export function countQueueStarts(
  ctx: SqliteContext,
  queue: string,
  now: number,
  periodMs: number,
  started: number,
): void {
  ctx
    .stmt(
      `INSERT INTO ${ctx.t.rateWindows} AS w (bucket, window_start, started, window_end) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (bucket) DO UPDATE SET
         started = CASE WHEN w.window_start = excluded.window_start THEN w.started + excluded.started ELSE excluded.started END,
         window_start = excluded.window_start, window_end = excluded.window_end`,
    )
    .run(queue, windowStart(now, periodMs), started, windowStart(now, periodMs) + periodMs);
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
export async function pruneRateWindows(ctx: SqliteContext): Promise<number> {
  const stmt = ctx.stmt(
    `DELETE FROM ${ctx.t.rateWindows} WHERE COALESCE(window_end, window_start + 86400000) < ?`,
  );
  return await ctx.write(() => Number(stmt.run(ctx.now()).changes));
}
