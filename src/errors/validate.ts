import type { ErrorCode } from "./catalogue.ts";
import { invalidArgument, isInstance, isRevokedProxy, readOr } from "./tend-error.ts";

/**
 * The checks every public entry point makes on its arguments, written once. Each returns the value
 * (narrowed) when it is good and throws `invalidArgument(code, name, value, expected)` otherwise,
 * so the error names the argument, shows what it got and says what was expected. The caller picks
 * the code of its part (`TEND_E_INVALID_JOB_OPTIONS`, `TEND_E_INBOX_CONCURRENCY`, ...).
 *
 * Call them where options are taken (a definition, a constructor), never per job or per file.
 */

/**
 * An integer from `min` to `max` (both included).
 *
 * @example
 * ```ts
 * const attempts = checkInteger("TEND_E_INVALID_JOB_OPTIONS", "maxAttempts", options.maxAttempts, 1, 1000);
 * ```
 */
export function checkInteger(
  code: ErrorCode,
  name: string,
  value: unknown,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(code, name, value, integerExpected(min, max));
  }
  return value;
}

function integerExpected(min: number, max: number): string {
  if (max < Number.MAX_SAFE_INTEGER) return `an integer from ${min} to ${max}`;
  if (min === 0) return "a non-negative integer";
  if (min === 1) return "a positive integer";
  return `an integer >= ${min}`;
}

/**
 * A finite number from `min` to `max` (both included).
 *
 * @example
 * ```ts
 * const jitter = checkNumber("TEND_E_SUPERVISE_INVALID_OPTION", "restart.jitter", value, 0, 1);
 * ```
 */
export function checkNumber(
  code: ErrorCode,
  name: string,
  value: unknown,
  min = Number.NEGATIVE_INFINITY,
  max = Number.POSITIVE_INFINITY,
): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    const expected =
      max !== Number.POSITIVE_INFINITY
        ? `a number from ${min} to ${max}`
        : min === 0
          ? "a non-negative number"
          : `a number >= ${min}`;
    throw invalidArgument(code, name, value, expected);
  }
  return value;
}

/**
 * A finite number greater than 0.
 *
 * @example
 * ```ts
 * const perWorker = checkPositiveNumber("TEND_E_SUPERVISE_INVALID_OPTION", "scaling.jobsPerWorker", value);
 * ```
 */
export function checkPositiveNumber(code: ErrorCode, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw invalidArgument(code, name, value, "a number > 0");
  }
  return value;
}

/**
 * One of the given strings.
 *
 * @example
 * ```ts
 * const onDone = checkOneOf("TEND_E_INBOX_ON_DONE", "onDone", options.onDone, ["move", "delete"] as const);
 * ```
 */
export function checkOneOf<const T extends string>(
  code: ErrorCode,
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw invalidArgument(code, name, value, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
  }
  return value as T;
}

/**
 * `true` or `false`.
 *
 * @example
 * ```ts
 * const watch = checkBoolean("TEND_E_INBOX_OPTIONS", "watch", options.watch);
 * ```
 */
export function checkBoolean(code: ErrorCode, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw invalidArgument(code, name, value, "true or false");
  return value;
}

/**
 * A string with something other than white space in it.
 *
 * @example
 * ```ts
 * const name = checkString("TEND_E_INBOX_NAME", "name", options.name);
 * ```
 */
export function checkString(
  code: ErrorCode,
  name: string,
  value: unknown,
  expected = "a non-empty string",
): string {
  if (typeof value !== "string" || value.trim() === "") throw invalidArgument(code, name, value, expected);
  return value;
}

/**
 * An object that is not null and not an array (an options bag).
 *
 * @example
 * ```ts
 * const o = checkObject("TEND_E_INVALID_APP_OPTIONS", "app options", options);
 * ```
 */
export function checkObject(
  code: ErrorCode,
  name: string,
  value: unknown,
  expected = "an object",
): Record<string, unknown> {
  // A revoked Proxy is an object to typeof, but IsArray (and every other read) throws on it.
  if (typeof value !== "object" || value === null || isRevokedProxy(value) || Array.isArray(value)) {
    throw invalidArgument(code, name, value, expected);
  }
  return value as Record<string, unknown>;
}

const LOGGER_METHODS = ["child", "info", "warn", "error", "debug"] as const;

/**
 * A logger: pino, or an object with `child`, `info`, `warn`, `error` and `debug` functions (what
 * tend calls on the loggers it is given).
 *
 * @example
 * ```ts
 * const log = checkLogger("TEND_E_INVALID_APP_OPTIONS", "log", options.log);
 * ```
 */
export function checkLogger<T>(
  code: ErrorCode,
  name: string,
  value: T,
  expected = "a logger (pino, or an object with child, info, warn, error and debug functions)",
): T {
  checkObject(code, name, value, expected);
  let missing: string | undefined;
  try {
    missing = LOGGER_METHODS.find((m) => typeof (value as Record<string, unknown>)[m] !== "function");
  } catch {
    missing = "(unreadable)";
  }
  if (missing !== undefined) throw invalidArgument(code, name, value, expected);
  return value;
}

/**
 * A function.
 *
 * @example
 * ```ts
 * checkFunction("TEND_E_INBOX_PROCESS", "process", options.process, "a function (file, ctx) => Promise<void>");
 * ```
 */
export function checkFunction(
  code: ErrorCode,
  name: string,
  value: unknown,
  expected = "a function",
): (...args: never[]) => unknown {
  if (typeof value !== "function") throw invalidArgument(code, name, value, expected);
  return value as (...args: never[]) => unknown;
}

/**
 * A `Date` that holds a time (not `new Date("nonsense")`).
 *
 * @example
 * ```ts
 * const runAt = checkDate("TEND_E_INVALID_JOB_OPTIONS", "runAt", options.runAt);
 * ```
 */
export function checkDate(code: ErrorCode, name: string, value: unknown, expected = "a valid Date"): Date {
  // getTime throws for a Proxy of a Date (and isInstance is false for a revoked Proxy).
  const time = readOr(() => (isInstance(value, Date) ? value.getTime() : Number.NaN), Number.NaN);
  if (Number.isNaN(time)) throw invalidArgument(code, name, value, expected);
  return value as Date;
}

/**
 * An `AbortSignal` (not a look-alike: an object without `aborted` and `addEventListener` would be
 * read as never aborting; a revoked Proxy would throw where it is first used).
 *
 * @example
 * ```ts
 * if (signal !== undefined) checkSignal("TEND_E_INVALID_LIFECYCLE_OPTION", "signal", signal);
 * ```
 */
export function checkSignal(code: ErrorCode, name: string, value: unknown): AbortSignal {
  if (!isInstance(value, AbortSignal)) throw invalidArgument(code, name, value, "an AbortSignal");
  return value;
}
