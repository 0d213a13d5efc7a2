import { afterEach, beforeEach } from "node:test";
import type { NewJob, Store } from "../../../src/store/index.ts";

/**
 * What a driver's test file hands the shared JobStore contract: a freshly migrated, empty store of
 * its own (a new SQLite file, a new PostgreSQL schema), a way to run code inside a transaction the
 * caller owns, and optionally a way to open more Store instances on the same database.
 */
export interface Harness {
  store: Store;
  /** Closes every store the harness opened and removes the database (file or schema). */
  cleanup(): Promise<void>;
  /**
   * Opens the caller's own transaction on the same database (PostgreSQL: a pg client after
   * `BEGIN`; SQLite: a `DatabaseSync` after `BEGIN`), runs `fn(tx)`, then commits or rolls back.
   */
  inCallerTransaction(fn: (tx: unknown) => Promise<void>, outcome: "commit" | "rollback"): Promise<void>;
  /**
   * Opens one more Store instance on the same database (its own connection/pool). The harness's
   * cleanup closes it. Optional: without it, "several instances" cases use concurrent calls on
   * `store` alone.
   */
  openAnother?: () => Promise<Store>;
}

/** Registers beforeEach/afterEach that give every test its own fresh harness; returns a getter. */
export function useHarness(harness: () => Promise<Harness>): () => Harness {
  let current: Harness | undefined;
  beforeEach(async () => {
    current = await harness();
  });
  afterEach(async () => {
    const h = current;
    current = undefined;
    await h?.cleanup();
  });
  return () => {
    if (current === undefined) throw new Error("harness not ready (used outside a test?)");
    return current;
  };
}

let counter = 0;

/** A valid NewJob, runnable now, with the given fields replaced. */
export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  counter += 1;
  return {
    kind: "test.kind",
    queue: "default",
    payload: JSON.stringify({ n: counter }),
    priority: 0,
    runAt: new Date(Date.now() - 1),
    maxAttempts: 3,
    uniqueKey: null,
    batchId: null,
    batchIndex: null,
    ...overrides,
  };
}

/** Inserts one job and returns its id. */
export async function insertOne(store: Store, overrides: Partial<NewJob> = {}): Promise<string> {
  const [result] = await store.jobs.insert([newJob(overrides)]);
  if (result === undefined || !result.inserted) throw new Error("insert did not insert");
  return result.id;
}

/** Claims exactly one job of `queue` (default "default") and returns its lease. */
export async function claimOne(
  store: Store,
  {
    queue = "default",
    workerId = "worker-1",
    leaseMs = 60_000,
  }: { queue?: string; workerId?: string; leaseMs?: number } = {},
): Promise<{ id: string; leaseToken: string; attempt: number }> {
  const [job] = await store.jobs.claim({ queue, limit: 1, workerId, leaseMs });
  if (job === undefined) throw new Error(`nothing to claim in queue ${queue}`);
  return { id: job.id, leaseToken: job.leaseToken, attempt: job.attempt };
}

/** Sorts numeric id strings ascending. */
export function sortIds(ids: readonly string[]): string[] {
  return [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
}

/** A JobError for fail(). */
export function jobError(
  attempt: number,
  message = "boom",
): {
  attempt: number;
  at: string;
  message: string;
  stack: string;
} {
  return { attempt, at: new Date().toISOString(), message, stack: `Error: ${message}\n    at test` };
}
