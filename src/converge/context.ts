import type { DatabaseSync } from "node:sqlite";
import type { Pool } from "pg";
import type { Duration } from "../lifecycle/index.ts";
import type { Logger } from "../log/index.ts";
import type { OpenTransaction, SqlFn } from "../store/index.ts";

/** Options passed through to the jobs layer's `enqueue` (queue, priority, delay, uniqueKey, ...). */
export type EnqueueOptions = Record<string, unknown>;

/** Enqueues a job (the jobs layer's `enqueue`); inside `ctx.transaction` it joins the transaction. */
export type EnqueueFn = (
  kind: string,
  payload?: unknown,
  options?: EnqueueOptions,
) => Promise<{ id: string; inserted: boolean }>;

/** What a transaction callback gets: SQL and enqueue bound to the open transaction. */
export interface TransactionContext extends OpenTransaction {
  /** Enqueues a job that exists if and only if this transaction commits. */
  readonly enqueue: EnqueueFn;
}

/** The app's database as user code sees it, on either driver. */
export interface DatabaseAccess {
  readonly driver: "sqlite" | "postgres";
  /** One statement, `$1` placeholders, rows back. */
  readonly sql: SqlFn;
  /**
   * Runs `fn` in one transaction (PostgreSQL: a pooled client inside BEGIN; SQLite: BEGIN
   * IMMEDIATE on tend's user connection, other statements of this process wait). Commits when
   * `fn` resolves, rolls back when it throws.
   */
  transaction<T>(fn: (tx: TransactionContext) => Promise<T>): Promise<T>;
  /** SQLite: a connection to the app's database file for direct use (undefined on PostgreSQL). */
  readonly db: DatabaseSync | undefined;
  /** PostgreSQL: the app's pool (undefined on SQLite). */
  readonly pool: Pool | undefined;
}

/** What `find` gets. */
export interface FindContext extends DatabaseAccess {
  readonly converger: string;
  /** Aborts on shutdown, on loss of leadership, and when the call's timeout passes. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** What `converge` gets. */
export interface ConvergeContext extends FindContext {
  readonly key: string;
  /** The version `find` gave with the key, if any. */
  readonly version: string | null;
  /** Failures of this key in a row before this call (0 normally). */
  readonly failures: number;
  /** Hands work to a job (throws TEND_E_CONVERGER_NO_JOBS when the app has no jobs layer). */
  readonly enqueue: EnqueueFn;
}

/**
 * What `converge` returns: nothing when nothing changed; or `{ changed }` describing what it
 * changed (JSON; recorded as one inconsistency unless empty, see `isEmptyChange`); and/or
 * `{ requeueAfter: "5s" }` to look at the key again after a while (slow state).
 */
// `void` is included so that an async converge that returns nothing (Promise<void>) fits.
export type ConvergeOutcome = undefined | null | void | { changed?: unknown; requeueAfter?: Duration };
