import type { ErrorCode } from "./catalogue.ts";

/**
 * The one error class tend throws. Every error carries a stable `code` (`TEND_E_...`, listed in
 * docs/errors.md and never reused), structured `details` and, where there is one, a `cause`.
 * Callers branch on `code`, never on the message text.
 *
 * @example
 * ```ts
 * try {
 *   manager.run(notATask);
 * } catch (err) {
 *   if (err instanceof TendError && err.code === "TEND_E_INVALID_TASK") console.error(err.details);
 * }
 * ```
 */
export class TendError extends Error {
  /** Stable machine-readable code, e.g. `TEND_E_INVALID_TASK` (one of docs/errors.md). */
  readonly code: ErrorCode;
  /** Structured facts about the failure (the bad value, what was expected, names involved). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TendError";
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/**
 * Renders a value for an error message: short, single-line, never throws (not even for a revoked
 * Proxy, or a Proxy or getter that throws when read).
 */
export function describeValue(value: unknown): string {
  try {
    return describe(value);
  } catch {
    return "an unreadable value (a Proxy whose traps throw)";
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (isRevokedProxy(value)) return "a revoked Proxy";
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "symbol" || typeof value === "bigint") return String(value);
  // JSON would show NaN and Infinity as null.
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (value instanceof Date && Number.isNaN(value.getTime())) return "an invalid Date";
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * True for a Proxy that has been revoked (every operation on it throws a TypeError). Pure.
 *
 * @example
 * ```ts
 * const { proxy, revoke } = Proxy.revocable({}, {});
 * revoke();
 * isRevokedProxy(proxy); // true
 * ```
 */
export function isRevokedProxy(value: unknown): boolean {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  try {
    // IsArray throws only for a revoked Proxy; it runs no trap of a live one.
    Array.isArray(value);
    return false;
  } catch {
    return true;
  }
}

/**
 * Builds the error for a bad argument to a public entry point: names the argument, shows the
 * value it got and says what was expected.
 *
 * @example
 * ```ts
 * throw invalidArgument("TEND_E_INVALID_TIMEOUT", "shutdownTimeout", -1, "a positive duration");
 * ```
 */
export function invalidArgument(code: ErrorCode, name: string, value: unknown, expected: string): TendError {
  return new TendError(code, `Invalid ${name}: got ${describeValue(value)}, expected ${expected}.`, {
    details: { name, value, expected },
  });
}

/**
 * `read()`, or `fallback` when reading throws: for the checks that look at a value the caller gave
 * (a revoked Proxy, a getter or a Proxy trap that throws), which then report it as the wrong type
 * instead of letting a raw error through. Pure.
 *
 * @example
 * ```ts
 * const named = readOr(() => typeof (value as { name?: unknown }).name === "string", false);
 * ```
 */
export function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/**
 * `value instanceof type`, false instead of a TypeError for a value whose prototype cannot be
 * read (a revoked Proxy, a Proxy whose `getPrototypeOf` trap throws). Pure.
 *
 * @example
 * ```ts
 * isInstance(new Date(), Date); // true
 * ```
 */
export function isInstance<T>(value: unknown, type: abstract new (...args: never[]) => T): value is T {
  return readOr(() => value instanceof type, false);
}

/**
 * `Array.isArray(value)`, false instead of a TypeError for a revoked Proxy, so that a check
 * reports it as the wrong type. Pure.
 *
 * @example
 * ```ts
 * isArrayValue(["SIGTERM"]); // true
 * ```
 */
export function isArrayValue(value: unknown): value is readonly unknown[] {
  return readOr(() => Array.isArray(value), false);
}

/** True when `err` is a TendError with the given code (false for anything else, even a revoked Proxy). */
export function isTendError(err: unknown, code?: ErrorCode): err is TendError {
  return isInstance(err, TendError) && (code === undefined || err.code === code);
}
