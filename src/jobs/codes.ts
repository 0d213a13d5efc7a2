/** Error codes of the jobs part (see docs/errors.md). Keys are the codes; values their meaning. */
export const JOBS_CODES = {} as const satisfies Record<`TEND_E_${string}`, string>;
