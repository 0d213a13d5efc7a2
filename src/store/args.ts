import { invalidArgument } from "../errors/index.ts";

/** The longest lease a worker may ask for (7 days). */
export const MAX_LEASE_MS = 7 * 24 * 3600 * 1000;

/** Job ids are strings of decimal digits; anything else can never name a row. */
export const ID_PATTERN = /^[0-9]{1,19}$/;

/**
 * Validates a job id argument of a store method: a string of decimal digits (TEND_E_INVALID_JOB_ID).
 *
 * @example
 * ```ts
 * const id = jobIdText("42");
 * ```
 */
export function jobIdText(id: unknown): string {
  if (typeof id !== "string" || !ID_PATTERN.test(id)) {
    throw invalidArgument("TEND_E_INVALID_JOB_ID", "job id", id, "a string of decimal digits");
  }
  return id;
}
