import { TendError } from "../errors/index.ts";

/** Codes of store errors that say no statement can succeed now, whatever it writes. */
const UNAVAILABLE: ReadonlySet<string> = new Set([
  "TEND_E_STORE_TIMEOUT",
  "TEND_E_STORE_UNREACHABLE",
  "TEND_E_STORE_CLOSED",
]);

/**
 * True when `err` says the store cannot be used now (it timed out, cannot be reached, or was
 * closed), as opposed to a statement the database refused for what it wrote: retrying the items
 * of a failed batch one by one would only fail again.
 *
 * @example
 * ```ts
 * if (isStoreUnavailable(err)) throw err; // not this item's fault
 * ```
 */
export function isStoreUnavailable(err: unknown): boolean {
  return err instanceof TendError && UNAVAILABLE.has(err.code);
}
