import type { SqliteContext } from "./context.ts";

/**
 * Rows a claim cannot read: SQLite stores 64-bit integers, JavaScript numbers hold 2^53 exactly,
 * and node:sqlite refuses to read a larger one (a RangeError, ERR_OUT_OF_RANGE). Only a row
 * changed outside tend holds one; it would fail every claim of its queue, as it comes first again
 * and again. Such pending rows are discarded with TEND_E_JOB_ROW_UNREADABLE recorded, so that the
 * queue goes on.
 */

/** The largest integer a JavaScript number holds exactly. */
const SAFE = "9007199254740991";

/** The integer columns a claim reads (or that a job's record carries). */
const INTEGER_COLUMNS = [
  "id",
  "priority",
  "run_at",
  "attempt",
  "max_attempts",
  "created_at",
  "started_at",
  "finished_at",
  "lease_expires_at",
  "cancel_requested",
  "batch_index",
  "lost",
  "max_lost",
  "concurrency_limit",
  "rate_limit",
  "rate_period_ms",
  "has_dependents",
  "unstarted_losses",
] as const;

/** The integer columns that may be NULL (set so when unreadable); the others are set to 0. */
const NULLABLE = new Set([
  "started_at",
  "lease_expires_at",
  "batch_index",
  "concurrency_limit",
  "rate_limit",
  "rate_period_ms",
]);

/** Pure: whether an error is node:sqlite's refusal to read an integer beyond 2^53. */
export function isUnsafeInteger(err: unknown): boolean {
  return err instanceof RangeError && (err as { code?: unknown }).code === "ERR_OUT_OF_RANGE";
}

/**
 * Discards the pending jobs of `queue` whose row holds an integer beyond 2^53 (see the module
 * comment), recording why. Returns how many.
 *
 * @example
 * ```ts
 * if (isUnsafeInteger(err)) await discardUnreadableRows(ctx, "default");
 * ```
 */
export async function discardUnreadableRows(ctx: SqliteContext, queue: string): Promise<number> {
  const unsafeOf = (c: string): string =>
    `(typeof(${c}) = 'integer' AND (${c} > ${SAFE} OR ${c} < -${SAFE}))`;
  const unsafe = INTEGER_COLUMNS.map(unsafeOf).join(" OR ");
  // The values as they were, in the recorded message (SQLite prints them exactly), and each such
  // column set back to a value the job's record can be read with (the id cannot be).
  const found = INTEGER_COLUMNS.map((c) => `CASE WHEN ${unsafeOf(c)} THEN ' ${c}=' || ${c} ELSE '' END`).join(
    " || ",
  );
  const reset = INTEGER_COLUMNS.filter((c) => c !== "id" && c !== "finished_at")
    .map((c) => `${c} = CASE WHEN ${unsafeOf(c)} THEN ${NULLABLE.has(c) ? "NULL" : "0"} ELSE ${c} END`)
    .join(", ");
  const stmt = ctx.stmt(
    `UPDATE ${ctx.t.jobs}
        SET state = 'discarded', finished_at = ?1, lease_token = NULL,
            errors = json_insert(CASE WHEN json_valid(errors) THEN errors ELSE '[]' END, '$[#]',
              json_object('attempt', NULL, 'at', ?2, 'code', 'TEND_E_JOB_ROW_UNREADABLE', 'message',
                'the stored row held an integer beyond 2^53, which tend cannot read (changed outside tend):' || ${found}
                || '; the job was discarded so that its queue goes on')),
            ${reset}
      WHERE queue = ?3 AND state IN ('available', 'scheduled', 'retryable') AND (${unsafe})`,
  );
  return await ctx.write(() => {
    const now = ctx.now();
    return Number(stmt.run(now, new Date(now).toISOString(), queue).changes);
  });
}
