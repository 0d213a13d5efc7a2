import { queueArg } from "../args.ts";
import type { QueueSetting } from "../job-model.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import type { Row } from "./rows.ts";

/** Per-queue settings on SQLite: pause and resume (enforced by the claim, see leases.ts). */

function toSetting(row: Row): QueueSetting {
  return {
    queue: String(row["name"]),
    paused: Number(row["paused"]) !== 0,
    changedAt: new Date(Number(row["changed_at"])),
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
     RETURNING name, paused, changed_at`,
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
  const rows = ctx.stmt(`SELECT name, paused, changed_at FROM ${ctx.t.queues} ORDER BY name`).all() as Row[];
  return rows.map(toSetting);
}
