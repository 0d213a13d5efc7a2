/** Error codes of the store part (see docs/errors.md). Keys are the codes; values their meaning. */
export const STORE_CODES = {
  TEND_E_INVALID_DATABASE_URL: "The database URL is not `sqlite:<path>` or `postgres://...`.",
  TEND_E_INVALID_TRANSACTION:
    "The caller's transaction handle is not an open transaction on this store's database (SQLite: a DatabaseSync inside BEGIN on the same file; PostgreSQL: a pg client inside BEGIN).",
  TEND_E_INVALID_SQLITE_OPTION:
    "An SQLite store option or URL query parameter (synchronous, poll, table prefix) has an unsupported value.",
  TEND_E_INVALID_SCHEMA:
    "A PostgreSQL schema name is not a lower-case identifier (/^[a-z_][a-z0-9_]*$/, at most 48 characters).",
  TEND_E_INVALID_POOL_SIZE: "A PostgreSQL pool size is not an integer from 1 to 1000.",
  TEND_E_INVALID_CHANNEL:
    "A notification channel is not a name of letters, digits and `_.:-` short enough for PostgreSQL, or its listener is not a function.",
  TEND_E_STORE_CLOSED: "A store method was called after store.close().",
  TEND_E_INVALID_STORE_ARGUMENT:
    "A JobStore method got an argument out of range (claim limit, lease duration, prune limit, list limit).",
  TEND_E_RETRY_UNIQUE_KEY_HELD:
    "A job cannot be retried because another pending or running job holds its unique key.",
  TEND_E_MIGRATION_FAILED:
    "A migration failed; the whole migration transaction was rolled back (nothing applied). The message names the migration and the database's error.",
  TEND_E_STORE_TIMEOUT:
    "A database call got no answer in time: connecting, a statement or a lock wait ran past its timeout (the message names which and the setting that bounds it). The connection was discarded; calls after it open a new one.",
  TEND_E_STORE_UNREACHABLE:
    "The database server cannot be reached: the connection was refused, the host name does not resolve, or the connection was lost.",
  TEND_E_STORE_AUTH_FAILED:
    "PostgreSQL refused the login (a wrong password, an unknown user, or pg_hba.conf refuses this client).",
  TEND_E_DATABASE_NOT_FOUND:
    "The database does not exist: an SQLite file at a path where a tool that must not create one looked, or a PostgreSQL database missing on the server.",
  TEND_E_DATABASE_NOT_MIGRATED:
    "The database has no tend tables, or lacks migrations of this version of tend, and the caller only reads or operates (it does not migrate): run `tend migrate`.",
  TEND_E_SCHEMA_TOO_NEW:
    "The database holds migrations that this version of tend does not know and that declare they need newer code (their `compatibleFrom` is above this version): run the newer version, or restore a backup taken before it migrated. The message names them.",
  TEND_E_DATABASE_UNREADABLE:
    "The SQLite path is not a database tend can use: a file that is not SQLite, a folder, or a file or folder this user cannot read, write or create.",
  TEND_E_INVALID_POSTGRES_OPTION:
    "A PostgreSQL store option or URL query parameter (a timeout) has an unsupported value.",
  TEND_E_LISTEN_FAILED:
    "The store could not open its LISTEN connection to PostgreSQL (server unreachable or refusing connections).",
} as const satisfies Record<`TEND_E_${string}`, string>;
