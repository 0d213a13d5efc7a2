import type pg from "pg";
import { TendError } from "../../errors/index.ts";
import type { CallerTransaction } from "../job-store.ts";

/** Anything with pg's `query(text, values)`: a Client or PoolClient inside the caller's BEGIN. */
export type Queryable = Pick<pg.ClientBase, "query">;

/**
 * Checks that a caller's transaction handle can run queries (a pg Client or PoolClient).
 *
 * @example
 * ```ts
 * const client = callerClient(tx);
 * ```
 */
export function callerClient(tx: CallerTransaction): Queryable {
  if (
    tx === null ||
    typeof tx !== "object" ||
    typeof (tx as { query?: unknown }).query !== "function" ||
    // A pg.Pool has query() too, but each call runs on whichever connection is free: no transaction.
    "totalCount" in tx
  ) {
    throw new TendError(
      "TEND_E_INVALID_TRANSACTION",
      "The transaction handle passed to insert() is not a pg client: pass the pg Client or PoolClient (from pool.connect(), not the pool itself) on which you ran BEGIN.",
      { details: { got: typeof tx } },
    );
  }
  return tx as Queryable;
}
