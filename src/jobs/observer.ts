import type { ClaimedJob, InsertResult, NewJob, RescuedJob } from "../store/index.ts";

/** How an attempt ended, as the worker counts it. */
export type AttemptOutcome = "completed" | "failed" | "released" | "cancelled" | "lostLeases";

/** Details of an attempt's end. */
export interface AttemptEnd {
  /** What the handler threw (or why the attempt failed), for `failed` and `cancelled`. */
  error?: unknown;
  /** A failure that used the last attempt (or was not retryable): the job is discarded. */
  discarded?: boolean;
}

/** One attempt being watched (a span, a timer): made when the attempt starts. */
export interface AttemptObservation {
  /**
   * Runs the handler inside the attempt's context (its span is the active one); absent when
   * there is no context to enter (the handler is then called directly).
   */
  run?<T>(fn: () => T): T;
  /** Called once, when the attempt's outcome is known. */
  end(outcome: AttemptOutcome, detail: AttemptEnd): void;
}

/** One enqueue being watched: made before the insert, ended after it. */
export interface EnqueueObservation {
  end(error: unknown, results: readonly InsertResult[] | null): void;
}

/**
 * What the jobs part tells observers (metrics, traces, the error hook, diagnostics channels):
 * the app passes one to {@link Jobs.observe}. Each method is optional and must be cheap; the
 * jobs part never depends on what is behind it.
 *
 * @example
 * ```ts
 * jobs.observe({ rescued: (n) => rescuedTotal.inc(n) });
 * ```
 */
export interface JobObserver {
  /**
   * Jobs this process is about to insert (enqueue, enqueueMany, batch). It may set each job's
   * `traceContext`. Returns what to call once the insert finished.
   */
  enqueue?(jobs: NewJob[]): EnqueueObservation | undefined;
  /** An attempt of a claimed job is starting in this process. */
  attempt?(job: ClaimedJob): AttemptObservation | undefined;
  /** This process's maintenance rescued jobs whose leases lapsed (their workers died or hung). */
  rescued?(jobs: readonly RescuedJob[]): void;
}
