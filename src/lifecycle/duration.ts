import type { ErrorCode } from "../errors/catalogue.ts";
import { invalidArgument } from "../errors/tend-error.ts";

/** A length of time: milliseconds as a number, or a string such as `"250ms"`, `"30s"`, `"5m"`, `"1h30m"`. */
export type Duration = number | string;

/**
 * The longest delay Node timers accept (about 24.8 days); longer ones would fire at once.
 *
 * @example
 * ```ts
 * if (ms > MAX_TIMER_MS) throw new RangeError("too long for a timer");
 * ```
 */
export const MAX_TIMER_MS = 2_147_483_647;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)/y;

/**
 * Parses a duration into milliseconds. Numbers are milliseconds (finite, not negative); strings are
 * one or more `<number><unit>` parts with units `ms`, `s`, `m`, `h`, `d` (`"1h30m"`, `"1.5s"`).
 * A bare number in a string (`"500"`) is rejected because its unit would be a guess.
 * Pure: no I/O, no clock. Throws `TEND_E_INVALID_DURATION` naming the bad value.
 *
 * @param value the duration to parse
 * @param name how the value is called in error messages (e.g. `"interval"`)
 * @example
 * ```ts
 * parseDuration("30s"); // 30000
 * parseDuration("1h30m"); // 5400000
 * parseDuration(250); // 250
 * ```
 */
export function parseDuration(value: unknown, name = "duration"): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
    throw bad(name, value);
  }
  if (typeof value !== "string") throw bad(name, value);
  const text = value.trim();
  if (text === "") throw bad(name, value);
  let total = 0;
  let at = 0;
  PART.lastIndex = 0;
  while (at < text.length) {
    PART.lastIndex = at;
    const match = PART.exec(text);
    if (match === null) throw bad(name, value);
    const amount = Number(match[1]);
    const unit = UNIT_MS[match[2] ?? ""];
    if (unit === undefined) throw bad(name, value);
    total += amount * unit;
    at = PART.lastIndex;
  }
  if (!Number.isFinite(total)) throw bad(name, value);
  return Math.round(total * 1000) / 1000;
}

/**
 * Parses a timeout: a {@link Duration} that is positive and no longer than {@link MAX_TIMER_MS}.
 * Throws `code` (default `TEND_E_INVALID_TIMEOUT`) naming the value otherwise.
 *
 * @example
 * ```ts
 * const ms = parseTimeout(options.timeout ?? "30s", "shutdownTimeout"); // 30000
 * ```
 */
export function parseTimeout(
  value: unknown,
  name = "timeout",
  code: ErrorCode = "TEND_E_INVALID_TIMEOUT",
): number {
  let ms: number;
  try {
    ms = parseDuration(value, name);
  } catch {
    throw invalidArgument(code, name, value, EXPECTED_POSITIVE);
  }
  if (ms <= 0 || ms > MAX_TIMER_MS) throw invalidArgument(code, name, value, EXPECTED_POSITIVE);
  return ms;
}

const EXPECTED_POSITIVE = `a positive duration up to ${MAX_TIMER_MS} ms: a number of ms or a string like "250ms", "30s", "5m"`;

function bad(name: string, value: unknown) {
  return invalidArgument(
    "TEND_E_INVALID_DURATION",
    name,
    value,
    'a non-negative number of ms or a string like "250ms", "30s", "5m", "1h30m" (units ms, s, m, h, d)',
  );
}
