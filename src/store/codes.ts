/** Error codes of the store part (see docs/errors.md). Keys are the codes; values their meaning. */
export const STORE_CODES = {
  TEND_E_INVALID_DATABASE_URL: "The database URL is not `sqlite:<path>` or `postgres://...`.",
} as const satisfies Record<`TEND_E_${string}`, string>;
