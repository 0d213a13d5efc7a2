/** Error codes of the inbox part (see docs/errors.md). Keys are the codes; values their meaning. */
export const INBOX_CODES = {} as const satisfies Record<`TEND_E_${string}`, string>;
