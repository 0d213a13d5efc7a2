import { checkObject, type ErrorCode, invalidArgument } from "../errors/index.ts";

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

/** Bounds and error code of a duration option; see {@link parseDuration}. */
export interface DurationLimits {
  /** The code thrown for a bad value (default `TEND_E_INVALID_DURATION`). */
  code?: ErrorCode;
  /** Reject 0 (default: 0 is accepted). */
  positive?: boolean;
  /** The longest accepted duration in ms (default: no bound). */
  max?: number;
}

/**
 * Parses a {@link Duration} into milliseconds: the one parser every duration option of tend goes
 * through. Numbers are milliseconds (finite, not negative); strings are one or more
 * `<number><unit>` parts with units `ms`, `s`, `m`, `h`, `d` (`"1h30m"`, `"1.5s"`). A bare number
 * in a string (`"500"`) is rejected because its unit would be a guess. `limits` adds bounds (not
 * 0, at most `max`) and the code of the caller's part. Pure: no I/O, no clock. Throws
 * `limits.code` (default `TEND_E_INVALID_DURATION`) naming the bad value and what was expected.
 *
 * @param value the duration to parse
 * @param name how the value is called in error messages (e.g. `"interval"`)
 * @example
 * ```ts
 * parseDuration("30s"); // 30000
 * parseDuration("1h30m"); // 5400000
 * parseDuration(250); // 250
 * parseDuration(options.lease ?? "30s", "lease", { code: "TEND_E_INVALID_JOB_OPTIONS", positive: true });
 * ```
 */
export function parseDuration(value: unknown, name = "duration", limits: DurationLimits = {}): number {
  checkObject(
    "TEND_E_INVALID_DURATION",
    "parseDuration limits",
    limits,
    "{ code?, positive?, max? } (or nothing)",
  );
  const ms = millisecondsOf(value);
  if (
    ms === undefined ||
    (limits.positive === true && ms <= 0) ||
    (limits.max !== undefined && ms > limits.max)
  ) {
    throw invalidArgument(limits.code ?? "TEND_E_INVALID_DURATION", name, value, expected(limits));
  }
  return ms;
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
  return parseDuration(value, name, { code, positive: true, max: MAX_TIMER_MS });
}

/**
 * Reads a duration typed as text (a command-line flag, a URL query parameter): a bare number is
 * milliseconds (`"250"` is 250), anything else is kept as typed for {@link parseDuration} to read
 * or to refuse by name. Pure.
 *
 * @example
 * ```ts
 * durationFromText("250"); // 250
 * durationFromText("30s"); // "30s"
 * parseDuration(durationFromText(flag), "--kill-timeout", { positive: true });
 * ```
 */
export function durationFromText(text: string): Duration {
  const trimmed = text.trim();
  return /^\d+(?:\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** Milliseconds of a duration, or undefined when it is not one. */
function millisecondsOf(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    PART.lastIndex = at;
    const match = PART.exec(text);
    if (match === null) return undefined;
    const unit = UNIT_MS[match[2] ?? ""];
    if (unit === undefined) return undefined;
    total += Number(match[1]) * unit;
    at = PART.lastIndex;
  }
  return Number.isFinite(total) ? Math.round(total * 1000) / 1000 : undefined;
}

function expected(limits: DurationLimits): string {
  const bound = limits.max === undefined ? "" : ` up to ${shown(limits.max)}`;
  return `a ${limits.positive === true ? "positive" : "non-negative"} duration${bound}: a number of ms or a string like "250ms", "30s", "5m", "1h30m" (units ms, s, m, h, d)`;
}

/** A bound as people say it: `1d`, `2147483647 ms`. */
function shown(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms} ms`;
}
