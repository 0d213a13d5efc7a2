import { type ErrorCode, invalidArgument } from "../errors/index.ts";

/**
 * An argument parser (commander's `argParser`) for a whole-number option from `min` to `max`: it
 * takes only decimal digits (`1e3`, `0x10`, `-1`, ` 5` and the empty text are refused, not read as
 * numbers), and refuses every bad value the same way: a TendError with `code`, naming the flag,
 * the value as typed and the range (the CLI prints it as one line, exit code 1).
 *
 * @example
 * ```ts
 * cmd.option("-n, --limit <n>", "at most this many", integerOption("--limit", 1, 10_000, "TEND_E_INVALID_STORE_ARGUMENT"), 50);
 * integerOption("--limit", 1, 10_000, "TEND_E_INVALID_STORE_ARGUMENT")("0");
 * // throws TEND_E_INVALID_STORE_ARGUMENT: Invalid --limit: got "0", expected an integer from 1 to 10000.
 * ```
 */
export function integerOption(
  flag: string,
  min: number,
  max: number,
  code: ErrorCode,
): (text: string) => number {
  return (text) => {
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= min && n <= max)) throw invalidArgument(code, flag, text, `an integer from ${min} to ${max}`);
    return n;
  };
}
