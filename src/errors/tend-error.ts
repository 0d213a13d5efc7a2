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

/** Renders a value for an error message: short, single-line, never throws. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "symbol" || typeof value === "bigint") return String(value);
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
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

/** True when `err` is a TendError with the given code. */
export function isTendError(err: unknown, code?: ErrorCode): err is TendError {
  return err instanceof TendError && (code === undefined || err.code === code);
}
