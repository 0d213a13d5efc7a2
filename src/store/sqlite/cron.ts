import { checkDate } from "../../errors/index.ts";
import type { NewJob } from "../job-model.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import { insertJobs } from "./insert.ts";
import type { Row } from "./rows.ts";

/**
 * Records a cron tick and inserts its job in one transaction, unless that tick or a later one was recorded.
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
  const { cron } = ctx.t;
  const tick = checkDate("TEND_E_INVALID_STORE_ARGUMENT", "tickAt", tickAt).getTime();
  const record = ctx.stmt(
    `INSERT INTO ${cron} (name, last_tick) VALUES (?1, ?2)
       ON CONFLICT (name) DO UPDATE SET last_tick = excluded.last_tick WHERE last_tick < excluded.last_tick
     RETURNING name`,
  );
  let wakeups: Wakeup[] = [];
  const enqueued = await ctx.write(() => {
    if (record.get(String(name), tick) === undefined) return false;
    wakeups = insertJobs(ctx, ctx.db, [job]).wakeups;
    return true;
  });
  ctx.emit(wakeups);
  return enqueued;
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
