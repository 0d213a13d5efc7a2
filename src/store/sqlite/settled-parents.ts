import type { Wakeup } from "./context.ts";
import { ANY_CHANGE } from "./notifier.ts";

/**
 * Adds, once, the wake-ups of a statement that ended (or deleted) a job with dependents: its
 * settle trigger may have released waiting dependents (runnable now: this process's workers look
 * again) and cancelled others (their batches may be finished: batch waiters look again). Another
 * process hears the write through the database's change counter; this process's own writes need
 * these. `row` is the statement's returned row, with `has_dependents`.
 *
 * @example
 * ```ts
 * noteSettledParent(row, wakeups); // after an UPDATE ... RETURNING has_dependents that ended a job
 * ```
 */
export function noteSettledParent(row: { has_dependents?: unknown }, wakeups: Wakeup[]): void {
  if (Number(row.has_dependents) !== 1) return;
  if (wakeups.some((w) => w.channel === "jobs" && w.payload === ANY_CHANGE)) return;
  wakeups.push({ channel: "jobs", payload: ANY_CHANGE }, { channel: "batch", payload: ANY_CHANGE });
}
