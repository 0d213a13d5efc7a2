import { checkLogger, invalidArgument, optionKeys, rejectUnknownKeys } from "../errors/index.ts";
import type { Store, StoreOptions } from "./store.ts";

/**
 * Loads the driver module that `openStore(url)` would load, opening nothing (the supervisor's
 * spare processes load tend ahead of the program). Resolves once loaded.
 */
export async function preloadDriver(url: string): Promise<void> {
  if (url.startsWith("postgres")) await import("./postgres/open.ts");
  else await import("./sqlite/open.ts");
}

const STORE_KEYS = optionKeys<StoreOptions>({
  schema: true,
  tablePrefix: true,
  poolSize: true,
  migrate: true,
  create: true,
  timeouts: true,
  log: true,
});

/**
 * Throws `TEND_E_UNKNOWN_OPTION` for a key of `options` that {@link StoreOptions} does not have,
 * so that an app finds a typo when it is created, before the store is opened.
 *
 * @example
 * ```ts
 * checkStoreOptions({ poolsize: 4 }); // throws: did you mean "poolSize"?
 * ```
 */
export function checkStoreOptions(options: unknown): void {
  rejectUnknownKeys("store options", options, STORE_KEYS);
}

/** The default database: an SQLite file under ./var. */
export const DEFAULT_DATABASE_URL = "sqlite:./var/tend.db";

/**
 * Opens tend's store from one URL: `sqlite:./var/tend.db` (a file; created with its folder unless
 * `create: false`) or `postgres://user@host:5432/db`. Applies pending migrations under a lock
 * unless told not to (`migrate: "verify"` applies none and fails with TEND_E_DATABASE_NOT_MIGRATED
 * unless all are applied). Failures to reach or open the database are TendErrors saying what was
 * tried and what to do: TEND_E_STORE_UNREACHABLE, TEND_E_STORE_AUTH_FAILED, TEND_E_STORE_TIMEOUT,
 * TEND_E_DATABASE_NOT_FOUND, TEND_E_DATABASE_UNREADABLE.
 *
 * @example
 * ```ts
 * const store = await openStore(process.env.DATABASE_URL ?? "sqlite:./var/tend.db");
 * await store.close();
 * ```
 */
export async function openStore(
  url: string = DEFAULT_DATABASE_URL,
  options: StoreOptions = {},
): Promise<Store> {
  if (typeof url !== "string" || url.length === 0) {
    throw invalidArgument(
      "TEND_E_INVALID_DATABASE_URL",
      "database URL",
      url,
      '"sqlite:<path>" or "postgres://..."',
    );
  }
  checkStoreOptions(options);
  if (options.log !== undefined)
    checkLogger("TEND_E_INVALID_STORE_ARGUMENT", "store option log", options.log);
  if (options.migrate !== undefined && typeof options.migrate !== "boolean" && options.migrate !== "verify") {
    throw invalidArgument(
      "TEND_E_INVALID_STORE_ARGUMENT",
      "store option migrate",
      options.migrate,
      'true, false or "verify"',
    );
  }
  if (options.create !== undefined && typeof options.create !== "boolean") {
    throw invalidArgument(
      "TEND_E_INVALID_STORE_ARGUMENT",
      "store option create",
      options.create,
      "true or false",
    );
  }
  let store: Store;
  if (url.startsWith("sqlite:")) {
    const { openSqliteStore } = await import("./sqlite/open.ts");
    store = await openSqliteStore(url, options);
  } else if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const { openPostgresStore } = await import("./postgres/open.ts");
    store = await openPostgresStore(url, options);
  } else {
    throw invalidArgument(
      "TEND_E_INVALID_DATABASE_URL",
      "database URL",
      url,
      '"sqlite:<path>" or "postgres://..."',
    );
  }
  if (options.migrate !== false) {
    try {
      if (options.migrate === "verify") await store.verifyMigrated();
      else await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}
