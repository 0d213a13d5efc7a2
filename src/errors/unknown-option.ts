import type { ErrorCode } from "./catalogue.ts";
import { describeValue, TendError } from "./tend-error.ts";

/**
 * The option names an entry point accepts, written as `{ name: true, ... }` against the options
 * type so that the list cannot drift from it: a key missing from the record, or one the type does
 * not have, fails the type check.
 *
 * @example
 * ```ts
 * const CRON_KEYS = optionKeys<CronOptions>({ name: true, timezone: true, catchUp: true });
 * ```
 */
export function optionKeys<T>(keys: { readonly [K in keyof Required<T>]: true }): ReadonlySet<string> {
  return new Set(Object.keys(keys));
}

/**
 * Throws `TEND_E_UNKNOWN_OPTION` when `options` has a key that `allowed` does not list, so that a
 * typo (`maxAtempts`, `evry`) fails where it is written instead of being ignored. The message names
 * the key, where it was given, the accepted keys and, when one is close, the key probably meant.
 * Does nothing for a value that is not an object (the caller's own type check reports that).
 *
 * @param where what the options belong to, as a user would say it: `"job kind options of email.send"`
 *   (or a function returning it, so that a check per item builds no text unless it fails)
 * @param code the caller's code for options it cannot read (a revoked Proxy, a Proxy whose
 *   `ownKeys` or `get` trap throws, a getter that throws): that is a bad value, not an unknown
 *   key. Default `TEND_E_UNREADABLE_OPTIONS`.
 * @param read whether to read every accepted option once (default true), so that a throwing
 *   getter fails here; a per-item check on a hot path passes false and, when reading an item
 *   fails, calls this again with true to report it (see enqueueMany).
 * @example
 * ```ts
 * rejectUnknownKeys("job kind options of email.send", { maxAtempts: 3 }, JOB_KIND_KEYS);
 * // TendError TEND_E_UNKNOWN_OPTION: Unknown option "maxAtempts" in job kind options of
 * // email.send; did you mean "maxAttempts"? Accepted: queue, maxAttempts, ...
 * ```
 */
export function rejectUnknownKeys(
  where: string | (() => string),
  options: unknown,
  allowed: ReadonlySet<string>,
  code: ErrorCode = "TEND_E_UNREADABLE_OPTIONS",
  read = true,
): void {
  if (typeof options !== "object" || options === null) return;
  let unknown: string | undefined;
  try {
    for (const key in options) {
      if (!allowed.has(key) && Object.hasOwn(options, key)) {
        unknown = key;
        break;
      }
    }
    // Every accepted option read once here, so that a getter or Proxy trap that throws fails as
    // unreadable options, at the call, rather than as a raw error where the caller reads it.
    if (read && unknown === undefined)
      for (const key of allowed) void (options as Record<string, unknown>)[key];
  } catch (err) {
    const place = typeof where === "string" ? where : where();
    throw new TendError(
      code,
      `Invalid ${place}: got ${describeValue(options)}, expected an options object whose keys can be read.`,
      { details: { name: place, expected: "an options object whose keys can be read" }, cause: err },
    );
  }
  if (unknown !== undefined)
    throw unknownOption(typeof where === "string" ? where : where(), unknown, allowed);
}

function unknownOption(where: string, key: string, allowed: ReadonlySet<string>): TendError {
  const accepted = [...allowed];
  const suggestion = closestKey(key, accepted);
  const hint = suggestion === undefined ? "." : `; did you mean "${suggestion}"?`;
  return new TendError(
    "TEND_E_UNKNOWN_OPTION",
    `Unknown option "${key}" in ${where}${hint} Accepted: ${accepted.join(", ")}.`,
    { details: { key, where, accepted, ...(suggestion === undefined ? {} : { suggestion }) } },
  );
}

/**
 * Pure: the candidate closest to `key` by edit distance (insertions, deletions, substitutions and
 * swaps of two neighbours each count one; case is ignored), when it is close enough to be a typo
 * of it: at most a third of the longer name's letters, and at most 3; or when one starts with the
 * other (`logger` for `log`, `hangTimeoutMs` for `hangTimeout`). Undefined otherwise.
 *
 * @example
 * ```ts
 * closestKey("maxAtempts", ["queue", "maxAttempts"]); // "maxAttempts"
 * closestKey("logger", ["log", "env"]); // "log"
 * closestKey("colour", ["queue", "maxAttempts"]); // undefined
 * ```
 */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const typed = key.toLowerCase();
  for (const candidate of candidates) {
    const known = candidate.toLowerCase();
    const limit = Math.min(3, Math.max(1, Math.floor(Math.max(typed.length, known.length) / 3)));
    const distance = editDistance(typed, known);
    const extended =
      Math.min(typed.length, known.length) >= 3 && (typed.startsWith(known) || known.startsWith(typed));
    if ((distance <= limit || extended) && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Pure: the optimal-string-alignment distance between two strings (Levenshtein, plus the swap of
 * two adjacent characters as one edit).
 *
 * @example
 * ```ts
 * editDistance("evry", "every"); // 1
 * editDistance("tiemout", "timeout"); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}
