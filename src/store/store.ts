import type { Logger } from "../log/index.ts";
import type { ConvergeStore } from "./converge-store.ts";
import type { JobStore } from "./job-store.ts";
import type { Notifier } from "./notifier.ts";

export type DriverName = "sqlite" | "postgres";

/** Options for {@link openStore}. */
export interface StoreOptions {
  /** PostgreSQL schema holding tend's tables (default `tend`). */
  schema?: string;
  /** SQLite table-name prefix (default `tend_`). */
  tablePrefix?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** Apply pending migrations when opening (default true). */
  migrate?: boolean;
  /**
   * Where the store logs, through a child with `part: "store"` (default: a new `createLogger()`).
   * An app hands the store its own logger.
   */
  log?: Logger;
}

/**
 * A database connection set (one pool per process) with tend's tables, shared by every part of
 * an app. Create with `openStore(url)`.
 */
export interface Store {
  readonly driver: DriverName;
  /** The URL, with any password removed. */
  readonly url: string;
  readonly jobs: JobStore;
  readonly notifier: Notifier;
  /**
   * The converge part's storage (leases, inconsistencies, terminal keys, wake-ups) and the app's
   * database for converger code, built by the driver when the store opened. Closed with the store.
   */
  readonly converge: ConvergeStore;
  /** Applies pending migrations under a lock; safe to call from many processes at once. Returns the names applied. */
  migrate(): Promise<string[]>;
  /** Closes every connection; memoized, safe to call twice. */
  close(): Promise<void>;
}
