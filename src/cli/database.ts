import { Option } from "commander";
import { createLogger, type Logger } from "../log/index.ts";
import { DEFAULT_DATABASE_URL, openStore, type Store } from "../store/index.ts";

/** The `--database` option shared by every command that reads the store. */
export function databaseOption(): Option {
  return new Option("-d, --database <url>", "database URL: sqlite:<path> or postgres://...")
    .env("TEND_DATABASE_URL")
    .default(DEFAULT_DATABASE_URL);
}

let logger: Logger | undefined;

/** The CLI's logger: it writes to stderr, so that what a command prints on stdout stays parseable. */
export function cliLogger(): Logger {
  logger ??= createLogger({ destination: "stderr" });
  return logger;
}

/**
 * Opens an existing, migrated store, runs `fn`, and always closes the store. A command that reads
 * or operates never creates or migrates a database: a wrong path fails with
 * TEND_E_DATABASE_NOT_FOUND, an unmigrated database with TEND_E_DATABASE_NOT_MIGRATED (run
 * `tend migrate`).
 */
export async function withStore<T>(url: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(url, { create: false, migrate: "verify", log: cliLogger() });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
