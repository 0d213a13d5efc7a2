/** Helpers of the JobStore contract suite: valid jobs, and inserting and claiming one. */
import type { NewJob, Store } from "../../../src/store/index.ts";

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
