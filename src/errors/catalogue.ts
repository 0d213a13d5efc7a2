import { APP_CODES } from "../app-codes.ts";
import { CONVERGE_CODES } from "../converge/codes.ts";
import { INBOX_CODES } from "../inbox/codes.ts";
import { JOBS_CODES } from "../jobs/codes.ts";
import { LIFECYCLE_CODES } from "../lifecycle/codes.ts";
import { STORE_CODES } from "../store/codes.ts";
import { SUPERVISE_CODES } from "../supervise/codes.ts";

/**
 * Every error code tend can throw, with a one-line meaning. Each part owns its codes in its own
 * `codes.ts`; this merges them. A test keeps this list, docs/errors.md and the code in step.
 * Codes are never reused for a different meaning.
 */
export const ERROR_CODES = {
  ...APP_CODES,
  ...LIFECYCLE_CODES,
  ...STORE_CODES,
  ...JOBS_CODES,
  ...CONVERGE_CODES,
  ...INBOX_CODES,
  ...SUPERVISE_CODES,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
