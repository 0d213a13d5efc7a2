/** Error codes of the lifecycle part (see docs/errors.md). Keys are the codes; values their meaning. */
export const LIFECYCLE_CODES = {} as const satisfies Record<`TEND_E_${string}`, string>;
