import { TendError } from "../errors/index.ts";
import type { DriverName } from "./store.ts";

const SHOWN: Record<DriverName, string> = { sqlite: "SQLite", postgres: "PostgreSQL" };

/**
 * The error thrown by any call on a closed store.
 *
 * @example
 * ```ts
 * if (closed) throw storeClosed("sqlite");
 * ```
 */
export function storeClosed(driver: DriverName): TendError {
  return new TendError(
    "TEND_E_STORE_CLOSED",
    `The ${SHOWN[driver]} store is closed: this call came after store.close(). Open a new store with openStore(url).`,
  );
}
