import { invalidArgument } from "../errors/index.ts";

/** The longest lease a worker may ask for (7 days). */
export const MAX_LEASE_MS = 7 * 24 * 3600 * 1000;

/** Job ids are strings of decimal digits; anything else can never name a row. */
const ID_PATTERN = /^[0-9]{1,19}$/;

/** The largest job id: ids are PostgreSQL bigints (SQLite's integer ids have the same range). */
const MAX_JOB_ID = 9223372036854775807n;

/**
 * Pure: whether `value` can be a job id: a string of 1 to 19 decimal digits no larger than the
 * largest bigint (a larger number names no row, and PostgreSQL would refuse the statement).
 *
 * @example
 * ```ts
 * isJobId("42"); // true
 * isJobId("9999999999999999999"); // false
 * ```
 */
export function isJobId(value: unknown): value is string {
  return (
    typeof value === "string" && ID_PATTERN.test(value) && (value.length < 19 || BigInt(value) <= MAX_JOB_ID)
  );
}

/**
 * Validates a job id argument of a store method: a string of decimal digits no larger than
 * 9223372036854775807 (TEND_E_INVALID_JOB_ID).
 *
 * @example
 * ```ts
 * const id = jobIdText("42");
 * ```
 */
export function jobIdText(id: unknown): string {
  if (!isJobId(id)) {
    throw invalidArgument(
      "TEND_E_INVALID_JOB_ID",
      "job id",
      id,
      "a string of decimal digits, at most 9223372036854775807",
    );
  }
  return id;
}

/** Queue names as the jobs layer allows them (letters, digits and `._:-`, 1-128 characters). */
const QUEUE_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Validates a queue name argument of a store method (TEND_E_INVALID_QUEUE).
 *
 * @example
 * ```ts
 * const queue = queueArg("emails");
 * ```
 */
export function queueArg(queue: unknown): string {
  if (typeof queue !== "string" || !QUEUE_PATTERN.test(queue)) {
    throw invalidArgument(
      "TEND_E_INVALID_QUEUE",
      "queue",
      queue,
      "1-128 characters of letters, digits and ._:-",
    );
  }
  return queue;
}
