import { isTendError } from "../errors/index.ts";

/**
 * A job's outcome (completed, failed, snoozed, released, cancelled) that could not be written
 * because the store timed out or could not be reached is written again while the job's lease may
 * still hold: otherwise the job would be rescued when its lease lapses and run a second time,
 * although it finished. Every outcome write is fenced by the attempt's lease token, so a write
 * that comes after the job was rescued changes nothing (it reports the lease lost). The typical
 * cause is a row lock: a caller's transaction that enqueued a dependent of the running job holds
 * the job's row until it commits, and the write waits past the database's lock timeout.
 */

/** The first wait before writing an outcome again; each next wait doubles, up to {@link MAX_WAIT_MS}. */
const FIRST_WAIT_MS = 250;
const MAX_WAIT_MS = 4_000;

/**
 * Pure: whether an outcome write that failed with `err` may succeed if written again (the store
 * timed out, a lock wait included, or could not be reached), as opposed to a closed store or a
 * statement the database refused for what it wrote.
 *
 * @example
 * ```ts
 * retryableOutcomeError(new TendError("TEND_E_STORE_TIMEOUT", "lock timeout")); // true
 * ```
 */
export function retryableOutcomeError(err: unknown): boolean {
  return isTendError(err, "TEND_E_STORE_TIMEOUT") || isTendError(err, "TEND_E_STORE_UNREACHABLE");
}

/**
 * Pure: how long to wait before writing an outcome again after `failures` failed writes, the
 * first `elapsedMs` ago; null to give up: once the wait would end past `leaseMs` from the first
 * failure (the job has surely been rescued by then, if anyone could reach the store).
 *
 * @example
 * ```ts
 * outcomeRetryWait(1, 0, 30_000); // 250
 * outcomeRetryWait(3, 29_000, 30_000); // null
 * ```
 */
export function outcomeRetryWait(failures: number, elapsedMs: number, leaseMs: number): number | null {
  const wait = Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** Math.max(0, failures - 1));
  return elapsedMs + wait > leaseMs ? null : wait;
}

/**
 * Pure: whether a batch's write failed on a lock another transaction holds on one of its rows (a
 * lock timeout): the other rows may be written without it.
 *
 * @example
 * ```ts
 * if (isLockTimeout(err)) writeOneByOne(items);
 * ```
 */
export function isLockTimeout(err: unknown): boolean {
  return isTendError(err, "TEND_E_STORE_TIMEOUT") && err.details["timeout"] === "lock";
}
