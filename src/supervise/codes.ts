/** Error codes of the supervise part (see docs/errors.md). Keys are the codes; values their meaning. */
export const SUPERVISE_CODES = {} as const satisfies Record<`TEND_E_${string}`, string>;
