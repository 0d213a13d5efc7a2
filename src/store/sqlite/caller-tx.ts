import { realpathSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { describeValue, isInstance, TendError } from "../../errors/index.ts";

/**
 * Checks that `tx` is a caller's `DatabaseSync` handle, open, inside a transaction, on the same
 * database file as the store (`storePath` is the store file's real path). Throws
 * TEND_E_INVALID_TRANSACTION otherwise, saying what was wrong.
 *
 * @example
 * ```ts
 * const db = assertCallerTransaction(tx, "/srv/app/var/tend.db");
 * ```
 */
export function assertCallerTransaction(tx: unknown, storePath: string): DatabaseSync {
  const fail = (why: string): never => {
    throw new TendError(
      "TEND_E_INVALID_TRANSACTION",
      `Invalid caller transaction: ${why}. Pass a node:sqlite DatabaseSync opened on ${storePath} after running BEGIN (or BEGIN IMMEDIATE) on it.`,
      { details: { value: describeValue(tx), storePath } },
    );
  };
  if (!isInstance(tx, DatabaseSync)) return fail(`got ${describeValue(tx)}, not a node:sqlite DatabaseSync`);
  if (!tx.isOpen) return fail("the handle is closed");
  if (!tx.isTransaction) return fail("the handle is not inside a transaction (run BEGIN first)");
  const location = tx.location();
  if (location === null || location === "") return fail("the handle is an in-memory or temporary database");
  let real: string;
  try {
    real = realpathSync(location);
  } catch {
    real = location;
  }
  if (real !== storePath) return fail(`the handle is on ${real}, not on the store's database`);
  return tx;
}
