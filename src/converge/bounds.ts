/**
 * The bounds of a converger's options: the shortest durations that still make sense, and what
 * a lease holder id may be. Pure checks that throw TEND_E_CONVERGER_INVALID_OPTION naming the
 * bad value and what was expected.
 */
import { invalidArgument } from "../errors/index.ts";
import { MAX_TIMER_MS, parseTimeout } from "../lifecycle/index.ts";

/**
 * The shortest accepted value (ms) of each duration option of a converger definition:
 * - `leaseTtl` 1 s: the leader renews every third of it and gives up a fifth before its end, so a
 *   shorter lease expires between two store round trips and leadership churns without recording;
 * - `every` and `pollInterval` 10 ms: shorter turns the sweep (a `find` query) or the SQLite
 *   change check into a busy loop.
 *
 * `timeout` and `backoff` only need to be positive.
 */
export const CONVERGER_MINIMUM_MS = {
  leaseTtl: 1_000,
  every: 10,
  pollInterval: 10,
} as const;

/** The longest holder id accepted (it is stored in every lease and inconsistency row). */
export const MAX_HOLDER_ID_LENGTH = 256;

/**
 * Pure: a converger's duration option in ms, positive, at most {@link MAX_TIMER_MS} and at least
 * `minMs`. Throws TEND_E_CONVERGER_INVALID_OPTION naming the converger, the option and the value.
 *
 * @example
 * ```ts
 * boundedDuration("15s", 'converger "x" leaseTtl', 1000); // 15000
 * boundedDuration("1ms", 'converger "x" leaseTtl', 1000); // throws TEND_E_CONVERGER_INVALID_OPTION
 * ```
 */
export function boundedDuration(value: unknown, name: string, minMs = 0): number {
  const ms = parseTimeout(value, name, "TEND_E_CONVERGER_INVALID_OPTION");
  if (ms < minMs) {
    throw invalidArgument(
      "TEND_E_CONVERGER_INVALID_OPTION",
      name,
      value,
      `a duration of at least ${shown(minMs)} (and at most ${MAX_TIMER_MS} ms): a number of ms or a string like "250ms", "30s", "5m"`,
    );
  }
  return ms;
}

/**
 * Pure: a lease holder id: a string of 1-256 characters, not blank, without control characters
 * (it names this process in leases, logs and inconsistencies). Throws
 * TEND_E_CONVERGER_INVALID_OPTION naming the value.
 *
 * @example
 * ```ts
 * checkHolderId("web-1:4242", "convergers holderId"); // "web-1:4242"
 * checkHolderId("", "convergers holderId"); // throws TEND_E_CONVERGER_INVALID_OPTION
 * ```
 */
export function checkHolderId(value: unknown, name: string): string {
  if (
    typeof value !== "string" ||
    value.trim() === "" ||
    value.length > MAX_HOLDER_ID_LENGTH ||
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f]/.test(value)
  ) {
    throw invalidArgument(
      "TEND_E_CONVERGER_INVALID_OPTION",
      name,
      value,
      `a non-blank string of at most ${MAX_HOLDER_ID_LENGTH} characters without control characters (this process's identity in leases)`,
    );
  }
  return value;
}

/** A bound as people say it: `1s`, `10ms`. */
function shown(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
