/**
 * Recording one inconsistency so that it is stored once: a failed write (a dropped connection, a
 * lock or busy timeout) is retried, but only after reading back whether the failed write was
 * committed after all (its answer lost with the connection), so that a retry never stores it twice.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isDeepStrictEqual } from "node:util";
import { TendError } from "../errors/index.ts";
import type { Logger } from "../log/index.ts";
import { type ConvergeStore, type Fence, type Inconsistency, storableValue } from "../store/index.ts";
import type { InconsistencyRecorder } from "./recorder.ts";

/** How long a failed inconsistency write is retried before its record is given up as lost. */
export const RECORD_RETRY_LIMIT_MS = 60_000;

/** How recording one change ended. */
export type RecordOutcome =
  | { kind: "recorded"; attempts: number }
  /** The lease was gone when the write was made: nothing was stored. */
  | { kind: "fenced"; attempts: number }
  /** The write kept failing until the term ended or {@link RECORD_RETRY_LIMIT_MS} passed. */
  | { kind: "lost"; attempts: number; error: TendError };

/**
 * Pure: the wait before retry number `attempt` (1-based) of a failed write: 100 ms doubling up
 * to 5 s.
 *
 * @example
 * ```ts
 * recordRetryDelayMs(1); // 100
 * recordRetryDelayMs(10); // 5000
 * ```
 */
export function recordRetryDelayMs(attempt: number): number {
  return Math.min(5_000, 100 * 2 ** Math.min(attempt - 1, 10));
}

/**
 * Pure: whether a stored inconsistency is the one a failed write tried to store: the same
 * holder and epoch (the lease term, or null for an unfenced run) and the same changes (as
 * stored: JSON, object keys in any order). The caller reads only the key's rows recorded since
 * its `converge` call started, when no other record of that key could be written by this term.
 *
 * @example
 * ```ts
 * isSameRecord(row, { holder: "a", epoch: 3 }, { resources: [7] });
 * ```
 */
export function isSameRecord(row: Inconsistency, fence: Fence | null, storedChanges: unknown): boolean {
  return (
    row.holder === (fence?.holder ?? null) &&
    row.epoch === (fence?.epoch ?? null) &&
    isDeepStrictEqual(row.changes, storedChanges)
  );
}

/** What {@link recordChange} needs. */
export interface RecordChangeOptions {
  converger: string;
  key: string;
  changes: unknown;
  fence: Fence | null;
  store: ConvergeStore;
  recorder: InconsistencyRecorder;
  log: Logger;
  /** When the `converge` call that made the change started (the read-back looks from there). */
  since: Date;
  /** Ends the retries (the term ends: shutdown or lease lost). */
  signal: AbortSignal;
  /** How long to retry (default {@link RECORD_RETRY_LIMIT_MS}). */
  retryLimitMs?: number;
}

/**
 * Records the inconsistency of one change (batched by the recorder, fenced). When the write
 * fails, retries with a growing delay, each retry first reading back the key's records since
 * the call started: one with this term's holder and epoch and these changes means the failed
 * write was committed after all, and it is not written again; else it is written alone (not
 * batched), so that another record that failed the same batch cannot fail it again. Gives up when `signal` aborts or
 * after `retryLimitMs`, returning a TEND_E_CONVERGER_RECORD_LOST error. Never throws.
 *
 * @example
 * ```ts
 * const outcome = await recordChange({ converger, key, changes, fence, store, recorder, log, since, signal });
 * ```
 */
export async function recordChange(options: RecordChangeOptions): Promise<RecordOutcome> {
  const { converger, key, changes, fence, store, recorder, log, since, signal } = options;
  const deadline = Date.now() + (options.retryLimitMs ?? RECORD_RETRY_LIMIT_MS);
  let attempts = 1;
  let lastError: unknown;
  try {
    return { kind: (await recorder.record(key, changes, fence)) ? "recorded" : "fenced", attempts };
  } catch (err) {
    lastError = err;
  }
  const stored: unknown = JSON.parse(JSON.stringify(storableValue(changes)) ?? "null");
  for (;;) {
    const delayMs = recordRetryDelayMs(attempts);
    if (signal.aborted || Date.now() + delayMs > deadline) {
      const why = signal.aborted
        ? "the converger's term ended"
        : `it kept failing for ${RECORD_RETRY_LIMIT_MS / 1000} s`;
      return {
        kind: "lost",
        attempts,
        error: new TendError(
          "TEND_E_CONVERGER_RECORD_LOST",
          `Converger "${converger}": the change converge(${JSON.stringify(key)}) made is not recorded: the inconsistency's write failed ${attempts} time(s) and ${why}. The change itself was made.`,
          { details: { converger, key, attempts }, cause: lastError },
        ),
      };
    }
    log.warn(
      { err: lastError, attempts, retryInMs: delayMs },
      "could not record an inconsistency; retrying (a write that was stored after all is not written again)",
    );
    await sleep(delayMs, undefined, { signal }).catch(() => {});
    if (signal.aborted) continue;
    attempts++;
    try {
      // The failed write may have been committed, its answer lost with the connection.
      const rows = await store.listInconsistencies({ converger, key, since, limit: 100 });
      if (rows.some((row) => isSameRecord(row, fence, stored))) return { kind: "recorded", attempts };
      // Alone: a record the database refuses, batched with this one, cannot fail it again.
      return { kind: (await recorder.record(key, changes, fence, true)) ? "recorded" : "fenced", attempts };
    } catch (err) {
      lastError = err;
    }
  }
}
