import { APP_CODES } from "./codes/app.ts";
import { BUILD_CODES } from "./codes/build.ts";
import { COMMON_CODES } from "./codes/common.ts";
import { CONVERGE_CODES } from "./codes/converge.ts";
import { HTTP_CODES } from "./codes/http.ts";
import { INBOX_CODES } from "./codes/inbox.ts";
import { JOBS_CODES } from "./codes/jobs.ts";
import { LIFECYCLE_CODES } from "./codes/lifecycle.ts";
import { STORE_CODES } from "./codes/store.ts";
import { SUPERVISE_CODES } from "./codes/supervise.ts";

/**
 * Every error code tend can throw, with a one-line meaning. Each part owns its codes in its own
 * catalogue under `src/errors/codes/` (`jobs.ts`, `inbox.ts`, ...); this merges them. A test keeps this list, docs/errors.md and the code in step.
 * Codes are never reused for a different meaning.
 */
export const ERROR_CODES = {
  ...COMMON_CODES,
  ...APP_CODES,
  ...LIFECYCLE_CODES,
  ...STORE_CODES,
  ...JOBS_CODES,
  ...CONVERGE_CODES,
  ...INBOX_CODES,
  ...SUPERVISE_CODES,
  ...BUILD_CODES,
  ...HTTP_CODES,
} as const;

/**
 * A code tend throws: one of the keys of {@link ERROR_CODES}. `TendError.code` and
 * `invalidArgument` take this type, so a misspelt or uncatalogued code fails the type check.
 *
 * @example
 * ```ts
 * const code: ErrorCode = "TEND_E_INVALID_JOB_KIND";
 * ```
 */
export type ErrorCode = keyof typeof ERROR_CODES;
