import { setTimeout as sleep } from "node:timers/promises";
import { checkObject, optionKeys, rejectUnknownKeys, TendError } from "../errors/index.ts";
import { type Duration, linkSignals, parseDuration } from "../lifecycle/index.ts";
import type { JobError, JobRecord, Json, Store } from "../store/index.ts";
import { TIMER_DURATION } from "./validate.ts";

const WAIT_KEYS = optionKeys<BatchWaitOptions>({ timeout: true, signal: true, pollInterval: true });

/** A batch wait's timeout may be 0 (look once) and longer than a timer: it is a deadline. */
const WAIT_DURATION = { code: "TEND_E_INVALID_JOB_OPTIONS" } as const;

/** The outcome of one job of a batch, in input order. */
export interface BatchItemResult {
  /** Position in the input. */
  index: number;
  id: string;
  /** True when the job completed; false when it was discarded or cancelled. */
  ok: boolean;
  state: "completed" | "discarded" | "cancelled";
  /** The handler's result (completed jobs). */
  result: Json | null;
  /** The last recorded error (failed jobs). */
  error: JobError | null;
}

/** Options for waiting on a batch. */
export interface BatchWaitOptions {
  /** Give up after this long with TEND_E_BATCH_TIMEOUT (default: wait until the batch is done). */
  timeout?: Duration;
  /** Stops the wait (it rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Poll interval besides notifications (default `"500ms"`). */
  pollInterval?: Duration;
}

/** A batch of enqueued jobs whose results can be awaited from any process. */
export interface Batch {
  readonly id: string;
  /** Job ids in input order. */
  readonly jobIds: readonly string[];
  /** Resolves when every job of the batch is completed, discarded or cancelled. */
  results(options?: BatchWaitOptions): Promise<BatchItemResult[]>;
}

/** Pure: maps a finished batch's rows to results in input order. */
export function toBatchResults(rows: readonly JobRecord[]): BatchItemResult[] {
  return [...rows]
    .sort((a, b) => (a.batchIndex ?? 0) - (b.batchIndex ?? 0))
    .map((row) => ({
      index: row.batchIndex ?? 0,
      id: row.id,
      ok: row.state === "completed",
      state: row.state as BatchItemResult["state"],
      result: row.state === "completed" ? row.result : null,
      error: row.state === "completed" ? null : (row.errors.at(-1) ?? null),
    }));
}

/** The error of a wait on a batch id that no job carries. */
function batchNotFound(batchId: string): TendError {
  return new TendError(
    "TEND_E_BATCH_NOT_FOUND",
    `No job carries batch id ${JSON.stringify(batchId)}: it was never enqueued, the transaction that enqueues it has not committed yet (wait after the commit), or its jobs were deleted (by retention or \`tend jobs delete\`).`,
    { details: { batchId } },
  );
}

/**
 * Waits for a batch (by id, from any process) to finish and returns its results in input order.
 * Wakes on the store's "batch" notifications and polls as a fallback. A batch id that no job
 * carries (now or, during the wait, any longer) rejects with `TEND_E_BATCH_NOT_FOUND` rather than
 * waiting forever.
 */
export async function awaitBatch(
  store: Store,
  batchId: string,
  options: BatchWaitOptions = {},
): Promise<BatchItemResult[]> {
  checkObject("TEND_E_INVALID_JOB_OPTIONS", "batch wait options", options, "an options object (or nothing)");
  rejectUnknownKeys("batch wait options", options, WAIT_KEYS);
  const pollMs = parseDuration(options.pollInterval ?? "500ms", "pollInterval", TIMER_DURATION);
  const timeoutMs =
    options.timeout === undefined ? undefined : parseDuration(options.timeout, "timeout", WAIT_DURATION);
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  // Set by a notification that arrives while the progress query runs, so it is not missed.
  const state: { dirty: boolean; wake: (() => void) | null } = { dirty: false, wake: null };
  const unlisten = await store.notifier.listen(
    "batch",
    (payload) => {
      if (payload === batchId || payload === "*") {
        state.dirty = true;
        state.wake?.();
      }
    },
    () => {
      state.dirty = true;
      state.wake?.();
    },
  );
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      state.dirty = false;
      const progress = await store.jobs.batchProgress(batchId);
      // Nothing to wait for: a wait here would never end (and, inside the transaction that
      // enqueues the batch, would keep that transaction from ever committing).
      if (progress.total === 0) throw batchNotFound(batchId);
      if (progress.finished >= progress.total) {
        return toBatchResults(await store.jobs.batchJobs(batchId));
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TendError(
          "TEND_E_BATCH_TIMEOUT",
          `Batch ${batchId} did not finish in ${timeoutMs} ms (${progress.finished} of ${progress.total} jobs done).`,
          {
            details: { ...progress },
          },
        );
      }
      if (state.dirty) continue;
      const link = linkSignals(options.signal === undefined ? [] : [options.signal]);
      state.wake = () => link.abort();
      await sleep(Math.min(pollMs, left), undefined, { signal: link.signal }).catch(() => {});
      link.dispose();
      state.wake = null;
    }
  } finally {
    await unlisten();
  }
}
