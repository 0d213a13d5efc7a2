import { jobIdText } from "../args.ts";

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
  const text = jobIdText(id);
  if (text.length <= 15) return Number(text);
  const big = BigInt(text);
  // Larger than any rowid: can name no row; -1 matches nothing.
  return big > MAX_ROWID ? -1 : big;
}
