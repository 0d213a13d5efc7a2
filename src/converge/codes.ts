/** Error codes of the converge part (see docs/errors.md). Keys are the codes; values their meaning. */
export const CONVERGE_CODES = {} as const satisfies Record<`TEND_E_${string}`, string>;
