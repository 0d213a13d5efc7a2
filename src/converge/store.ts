import { TendError } from "../errors/tend-error.ts";
import type { ConvergeStore, Store } from "../store/index.ts";

const cache = new WeakMap<Store, Promise<ConvergeStore>>();

/**
 * The converge storage of a Store, created once per Store and shared by every converger of the
 * app. Its tables come with the Store's migrations (component "converge").
 *
 * @example
 * ```ts
 * const store = await openStore("sqlite:./var/tend.db");
 * const converge = await convergeStoreFor(store);
 * console.log(await converge.listInconsistencies({ converger: "archive-account-resources" }));
 * ```
 */
export function convergeStoreFor(store: Store): Promise<ConvergeStore> {
  let found = cache.get(store);
  if (found === undefined) {
    found = create(store);
    cache.set(store, found);
  }
  return found;
}

async function create(store: Store): Promise<ConvergeStore> {
  const raw = store.raw;
  if (raw.driver === "sqlite") {
    const { SqliteConvergeStore } = await import("../store/sqlite/converge-store.ts");
    return new SqliteConvergeStore(raw);
  }
  if (raw.driver === "postgres") {
    const { PostgresConvergeStore } = await import("../store/postgres/converge-store.ts");
    return new PostgresConvergeStore(raw, store.notifier);
  }
  throw new TendError(
    "TEND_E_CONVERGER_UNSUPPORTED_STORE",
    `Convergers need an SQLite or PostgreSQL store; got driver ${JSON.stringify((raw as { driver?: unknown }).driver)}.`,
  );
}
