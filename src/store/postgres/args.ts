import { invalidArgument } from "../../errors/index.ts";

/** Job ids are decimal strings; anything else can never name a row. */
export const ID_PATTERN = /^[0-9]{1,19}$/;

/**
 * Validates a job id argument.
 *
 * @example
 * ```ts
 * const id = jobId("42");
 * ```
 */
export function jobId(id: unknown): string {
  if (typeof id !== "string" || !ID_PATTERN.test(id)) {
    throw invalidArgument("TEND_E_INVALID_JOB_ID", "job id", id, "a string of decimal digits");
  }
  return id;
}
