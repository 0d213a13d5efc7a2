import { invalidArgument } from "../../errors/index.ts";
import { JOB_STATES, type JobState } from "../job-model.ts";

const ID_PATTERN = /^[0-9]{1,19}$/;
const MAX_ROWID = 2n ** 63n - 1n;

/**
 * Validates a job id argument (a string of decimal digits) and returns the SQLite rowid it names.
 * Throws TEND_E_INVALID_JOB_ID otherwise.
 *
 * @example
 * ```ts
 * db.prepare("SELECT * FROM tend_jobs WHERE id = ?").get(jobIdArg("42"));
 * ```
 */
export function jobIdArg(id: unknown): number | bigint {
  if (typeof id !== "string" || !ID_PATTERN.test(id)) {
    throw invalidArgument("TEND_E_INVALID_JOB_ID", "job id", id, "a string of decimal digits");
  }
  if (id.length <= 15) return Number(id);
  const big = BigInt(id);
  // Larger than any rowid: can name no row; -1 matches nothing.
  return big > MAX_ROWID ? -1 : big;
}

/**
 * Validates a Date argument and returns its milliseconds (TEND_E_INVALID_STORE_ARGUMENT).
 *
 * @example
 * ```ts
 * const ms = dateArg("olderThan", olderThan);
 * ```
 */
export function dateArg(name: string, value: unknown): number {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw invalidArgument("TEND_E_INVALID_STORE_ARGUMENT", name, value, "a valid Date");
  }
  return value.getTime();
}

/**
 * Validates a job state filter (TEND_E_INVALID_STORE_ARGUMENT).
 *
 * @example
 * ```ts
 * stateArg("discarded");
 * ```
 */
export function stateArg(value: unknown): JobState {
  if (typeof value !== "string" || !JOB_STATES.includes(value as JobState)) {
    throw invalidArgument("TEND_E_INVALID_STORE_ARGUMENT", "state", value, JOB_STATES.join(", "));
  }
  return value as JobState;
}
