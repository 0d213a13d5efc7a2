/** Error codes of the store part (see docs/errors.md). Keys are the codes; values their meaning. */
export const STORE_CODES = {
  TEND_E_INVALID_DATABASE_URL: "The database URL is not `sqlite:<path>` or `postgres://...`.",
  TEND_E_INVALID_TRANSACTION:
    "The caller's transaction handle is not an open transaction on this store's database (SQLite: a DatabaseSync inside BEGIN on the same file; PostgreSQL: a pg client inside BEGIN).",
  TEND_E_INVALID_SQLITE_OPTION:
    "An SQLite store option or URL query parameter (synchronous, poll, table prefix) has an unsupported value.",
} as const satisfies Record<`TEND_E_${string}`, string>;
