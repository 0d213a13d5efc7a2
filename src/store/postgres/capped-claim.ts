import { queueAllowance } from "../queue-limits.ts";
import type { PgContext } from "./context.ts";
import {
  type ClaimValues,
  inQueueLock,
  laterWindow,
  rateWindowUpdate,
  runLimitedClaim,
} from "./limited-claim.ts";
import type { ClaimRow } from "./rows.ts";

/**
 * The claim of a queue with limits of its own (`tend queues limit`): under the queue's claim lock
 * (the limited claim's, so that every claim of the queue is serialized with it), it reads the
 * queue's limits, its running jobs and its rate window's starts, takes no more than they allow
 * (see queueAllowance) with the plain or the limited claim statement, and counts the starts in the
 * window (bucket: the queue's name, which never holds "/", unlike a key's `<queue>/<key>`). A claim
 * whose window is earlier than the one already counted (its transaction began before a later
 * claim's and waited for the lock behind it) counts its window as used up: it starts nothing.
 * Queues without limits never get here.
 */

interface CapRow {
  concurrency_limit: number | null;
  rate_limit: number | null;
  rate_period_ms: number | null;
  running: number;
  used: number;
  win: Date | null;
}

/** The queue's limits and what counts against them ($1 queue). */
function capSql(ctx: PgContext): string {
  return `WITH q AS (
      SELECT concurrency_limit, rate_limit, rate_period_ms,
        CASE WHEN rate_period_ms IS NULL THEN NULL
          ELSE to_timestamp(floor(extract(epoch FROM now()) * 1000 / rate_period_ms) * rate_period_ms / 1000.0) END AS win
      FROM ${ctx.queues} WHERE name = $1
    )
    SELECT q.concurrency_limit, q.rate_limit, q.rate_period_ms, q.win,
      CASE WHEN q.concurrency_limit IS NULL THEN 0
        ELSE (SELECT count(*) FROM ${ctx.jobs} WHERE queue = $1 AND state = 'running') END::int AS running,
      COALESCE((SELECT CASE WHEN w.window_start = q.win THEN w.started
          WHEN ${laterWindow("w.window_start", "q.win")} THEN q.rate_limit ELSE 0 END
        FROM ${ctx.rateWindows} w WHERE w.bucket = $1), 0)::int AS used
    FROM q`;
}

/**
 * Claims from a queue with limits of its own (see the module comment). `limited`: the queue also
 * holds keyed or rate-limited jobs (the limited claim statement), else the plain one (`plainSql`).
 * Returns the rows and the queue's rate window (ms), if it has a rate limit.
 *
 * @example
 * ```ts
 * const { rows } = await claimCapped(ctx, ["default", 10, "w1", 30_000, randomUUID(), 10], false, claimSql(ctx), 10_000);
 * ```
 */
export async function claimCapped(
  ctx: PgContext,
  values: ClaimValues,
  limited: boolean,
  plainSql: string,
  timeoutMs: number,
): Promise<{ rows: ClaimRow[]; ratePeriodMs: number | null }> {
  return await inQueueLock(ctx, values[0], timeoutMs, async (query) => {
    const cap = (await query<CapRow>("claim_cap", capSql(ctx), [values[0]])).rows[0];
    // The limits were cleared since the probe: claim as usual.
    const allowed =
      cap === undefined
        ? { limit: values[1], start: values[5] }
        : queueAllowance(values[1], values[5], {
            concurrencyLimit: cap.concurrency_limit,
            running: cap.running,
            rateLimit: cap.rate_limit,
            ratePeriodMs: cap.rate_period_ms,
            used: cap.used,
          });
    if (allowed.limit === 0) return { rows: [], ratePeriodMs: cap?.rate_period_ms ?? null };
    const args: ClaimValues = [values[0], allowed.limit, values[2], values[3], values[4], allowed.start];
    const { rows } = limited
      ? { rows: await runLimitedClaim(ctx, query, args) }
      : await query<ClaimRow>("claim", plainSql, args);
    const started = rows.filter((r) => r.started).length;
    if (cap?.rate_limit != null && started > 0)
      await query(
        "claim_cap_count",
        `INSERT INTO ${ctx.rateWindows} AS w (bucket, window_start, started, window_end)
        VALUES ($1, $2, $3, $2::timestamptz + $4 * interval '1 millisecond')
        ON CONFLICT (bucket) DO UPDATE SET ${rateWindowUpdate()}`,
        [values[0], cap.win, started, cap.rate_period_ms],
      );
    return { rows, ratePeriodMs: cap?.rate_period_ms ?? null };
  });
}
