import { setTimeout as sleep } from "node:timers/promises";
import { type Duration, parseDuration } from "../lifecycle/index.ts";
import type { Logger } from "../log/index.ts";
import type { ConvergeStore } from "../store/index.ts";

/** How long a converger's records are kept, in ms; null keeps them forever. */
export interface ConvergerRetention {
  /** Inconsistencies recorded longer ago than this are deleted. */
  inconsistenciesMs: number | null;
  /** Keys parked (failed with a TerminalError) longer ago than this are unparked: the next sweep that finds them runs them again. */
  parkedKeysMs: number | null;
}

/** The default retention: 30 days for both. */
export const DEFAULT_RETENTION: ConvergerRetention = {
  inconsistenciesMs: 30 * 86_400_000,
  parkedKeysMs: 30 * 86_400_000,
};

/** How often a converger's leader prunes its records (and once when it starts leading). */
export const PRUNE_INTERVAL_MS = 10 * 60_000;

/** Rows deleted per statement: a prune never holds the database for long. */
export const PRUNE_BATCH = 1_000;

/**
 * Pure: reads a retention option: a positive duration, or `false` for "keep forever". Throws
 * TEND_E_CONVERGER_INVALID_OPTION naming it otherwise.
 *
 * @example
 * ```ts
 * retentionMs("30d", "inconsistencyRetention", DEFAULT_RETENTION.inconsistenciesMs); // 2592000000
 * retentionMs(false, "parkedKeyRetention", DEFAULT_RETENTION.parkedKeysMs); // null
 * ```
 */
export function retentionMs(
  value: Duration | false | undefined,
  name: string,
  fallback: number | null,
): number | null {
  if (value === undefined) return fallback;
  if (value === false) return null;
  return parseDuration(value, name, { code: "TEND_E_CONVERGER_INVALID_OPTION", positive: true });
}

/**
 * Deletes one converger's records older than its retention, in batches of {@link PRUNE_BATCH}
 * until none is left or `signal` aborts. Returns how many inconsistencies were deleted and which
 * parked keys were unparked.
 *
 * @example
 * ```ts
 * const { inconsistencies, unparked } = await pruneConverger(store, "archive", DEFAULT_RETENTION, Date.now(), signal);
 * ```
 */
export async function pruneConverger(
  store: ConvergeStore,
  converger: string,
  retention: ConvergerRetention,
  now: number,
  signal: AbortSignal,
): Promise<{ inconsistencies: number; unparked: string[] }> {
  let inconsistencies = 0;
  const unparked: string[] = [];
  if (retention.inconsistenciesMs !== null) {
    const olderThan = new Date(now - retention.inconsistenciesMs);
    for (;;) {
      const n = await store.pruneInconsistencies(converger, olderThan, PRUNE_BATCH);
      inconsistencies += n;
      if (n < PRUNE_BATCH || signal.aborted) break;
    }
  }
  if (retention.parkedKeysMs !== null) {
    const olderThan = new Date(now - retention.parkedKeysMs);
    for (;;) {
      const keys = await store.pruneTerminal(converger, olderThan, PRUNE_BATCH);
      unparked.push(...keys);
      if (keys.length < PRUNE_BATCH || signal.aborted) break;
    }
  }
  return { inconsistencies, unparked };
}

/**
 * While `signal` runs (one leadership term), prunes the converger's records at once and then every
 * {@link PRUNE_INTERVAL_MS}: only the leader prunes, so one process does it per converger.
 * `onUnparked` gets the keys whose parked records expired. A failure is logged and retried at the
 * next interval.
 *
 * @example
 * ```ts
 * const pruning = keepPruned(store, def.name, retention, log, signal, (keys) => keys.forEach(unpark));
 * ```
 */
export async function keepPruned(
  store: ConvergeStore,
  converger: string,
  retention: ConvergerRetention,
  log: Logger,
  signal: AbortSignal,
  onUnparked: (keys: string[]) => void,
): Promise<void> {
  if (retention.inconsistenciesMs === null && retention.parkedKeysMs === null) return;
  while (!signal.aborted) {
    try {
      const { inconsistencies, unparked } = await pruneConverger(
        store,
        converger,
        retention,
        Date.now(),
        signal,
      );
      if (unparked.length > 0) onUnparked(unparked);
      if (inconsistencies > 0 || unparked.length > 0) {
        log.info(
          { inconsistencies, unparked: unparked.length },
          "pruned the converger's records older than their retention",
        );
      }
    } catch (err) {
      if (!signal.aborted) log.warn({ err }, "pruning the converger's old records failed; retrying later");
    }
    await sleep(PRUNE_INTERVAL_MS, undefined, { signal }).catch(() => {});
  }
}
