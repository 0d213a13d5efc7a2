import { invalidArgument } from "../errors/index.ts";

/** The longest lease a worker may ask for (7 days). */
export const MAX_LEASE_MS = 7 * 24 * 3600 * 1000;

/**
 * Validates an integer argument of a store method within bounds (TEND_E_INVALID_STORE_ARGUMENT).
 *
 * @example
 * ```ts
 * const limit = intArg("limit", request.limit, 1, 10_000);
 * ```
 */
export function intArg(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument("TEND_E_INVALID_STORE_ARGUMENT", name, value, `an integer from ${min} to ${max}`);
  }
  return value;
}
