import { Option } from "commander";
import { DEFAULT_DATABASE_URL, openStore, type Store } from "../store/index.ts";

/** The `--database` option shared by every command that reads the store. */
export function databaseOption(): Option {
  return new Option("-d, --database <url>", "database URL: sqlite:<path> or postgres://...")
    .env("TEND_DATABASE_URL")
    .default(DEFAULT_DATABASE_URL);
}

/** Opens the store, runs `fn`, and always closes the store. */
export async function withStore<T>(
  url: string,
  fn: (store: Store) => Promise<T>,
  options: { migrate?: boolean } = {},
): Promise<T> {
  const store = await openStore(url, { migrate: options.migrate ?? true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
