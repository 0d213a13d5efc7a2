import { describeValue, readOr, TendError } from "../errors/index.ts";
import type { ConvergeStore, Store } from "../store/index.ts";

/**
 * The converge storage of an open Store (built by its driver when it opened, shared by every
 * converger of the app; its tables come with the Store's migrations). Throws
 * TEND_E_CONVERGER_UNSUPPORTED_STORE for an object that is not a store opened by `openStore`.
 */
export function convergeStoreOf(store: Store): ConvergeStore {
  // A revoked Proxy, or a getter that throws: not a store.
  const converge = readOr(() => (store as Partial<Store> | null | undefined)?.converge, undefined);
  const driver = readOr(() => (store as { driver?: unknown } | null | undefined)?.driver, undefined);
  if (converge === undefined || converge === null) {
    throw new TendError(
      "TEND_E_CONVERGER_UNSUPPORTED_STORE",
      `Convergers need an SQLite or PostgreSQL store opened by openStore; got ${typeof driver === "string" ? `driver ${JSON.stringify(driver)}` : describeValue(store)}.`,
    );
  }
  return converge;
}
