import type pg from "pg";
import { readOr, TendError } from "../../errors/index.ts";
import type { CallerTransaction } from "../job-store.ts";

/** Anything with pg's `query(text, values)`: a Client or PoolClient inside the caller's BEGIN. */
export type Queryable = Pick<pg.ClientBase, "query">;

/**
 * Checks that a caller's transaction handle can run queries (a pg Client or PoolClient) and, where
 * the client reports it, that it is inside a transaction that has not failed.
 *
 * @example
 * ```ts
 * const client = callerClient(tx);
 * ```
 */
export function callerClient(tx: CallerTransaction): Queryable {
  if (!isClientLike(tx)) {
    throw new TendError(
      "TEND_E_INVALID_TRANSACTION",
      "The transaction handle passed to insert() is not a pg client: pass the pg Client or PoolClient (from pool.connect(), not the pool itself) on which you ran BEGIN.",
      { details: { got: typeof tx } },
    );
  }
  // pg records the server's transaction status as each query ends ('I' idle, 'T' inside a
  // transaction block, 'E' inside a failed one; a failed query's promise may settle before its
  // status arrives, so 'E' is caught only sometimes: the server refuses the insert anyway).
  // Outside BEGIN each statement of an insert would commit on its own, so a failing call (a
  // missing parent, a duplicate in a flow) would leave part of it committed: refused, as SQLite
  // refuses a handle outside BEGIN. A client that does not report it (another driver, no query
  // run yet) is taken as it is.
  const status = transactionStatus(tx);
  if (status === "I" || status === "E") {
    throw new TendError(
      "TEND_E_INVALID_TRANSACTION",
      status === "I"
        ? "The pg client passed as the transaction handle is not inside a transaction: run (and await) BEGIN on it first, then enqueue, then COMMIT."
        : "The pg client passed as the transaction handle is inside a failed transaction (an earlier statement failed): roll it back; nothing can be enqueued in it.",
      { details: { transactionStatus: status } },
    );
  }
  return tx as Queryable;
}

/** pg's last reported transaction status of a client, if it reports one. */
function transactionStatus(tx: object): string | null {
  const get = (tx as { getTransactionStatus?: unknown }).getTransactionStatus;
  if (typeof get !== "function") return null;
  try {
    const status: unknown = get.call(tx);
    return typeof status === "string" ? status : null;
  } catch {
    return null;
  }
}

/** Whether `tx` looks like a pg client (false when it cannot be read: a revoked Proxy, a throwing trap). */
function isClientLike(tx: unknown): tx is object {
  return readOr(
    () =>
      tx !== null &&
      typeof tx === "object" &&
      typeof (tx as { query?: unknown }).query === "function" &&
      // A pg.Pool has query() too, but each call runs on whichever connection is free: no transaction.
      !("totalCount" in tx),
    false,
  );
}
