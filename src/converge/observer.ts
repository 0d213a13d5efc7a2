/** How one `converge` call ended, as observers see it. */
export type ConvergeRunOutcome = "changed" | "unchanged" | "error" | "terminal" | "aborted";

/** One `converge` call being watched (a span, a timer): made when the call starts. */
export interface ConvergeRunObservation {
  /** Runs `converge` inside the run's context (its span is the active one). */
  run<T>(fn: () => T): T;
  /** Called once, when the run's outcome is known (`error` for `error` and `terminal`). */
  end(outcome: ConvergeRunOutcome, error: unknown): void;
}

/** One sweep (`find`, then offering its keys) being watched. */
export interface ConvergeSweepObservation {
  /** Runs `find` inside the sweep's context. */
  run<T>(fn: () => T): T;
  /** Called once: `error` is null on success, `keys` the number of keys found (0 on failure). */
  end(error: unknown, keys: number): void;
  /**
   * Handed to the runs of the keys this sweep queued (`run`'s `origin`), for instance the sweep's
   * span context, so that each run can be linked to the sweep that found its key.
   */
  readonly origin?: unknown;
}

/**
 * What the converge part tells observers (traces, diagnostics channels): the app passes one in
 * the converger's dependencies. Each method is optional and must be cheap; returning undefined
 * means "not watching this one", which costs the converger nothing more.
 *
 * @example
 * ```ts
 * createConverger(definition, { store, log, observer: { inconsistency: (name, key) => console.log(name, key) } });
 * ```
 */
export interface ConvergeObserver {
  /**
   * A `converge` call for `key` is starting (`failures`: its consecutive failures so far;
   * `origin`: the `origin` of the sweep that queued it, absent for a wake-up or a retry).
   */
  run?(
    converger: string,
    key: string,
    failures: number,
    origin?: unknown,
  ): ConvergeRunObservation | undefined;
  /** A sweep is starting. */
  sweep?(converger: string): ConvergeSweepObservation | undefined;
  /** A `converge` call changed something and its inconsistency was recorded. */
  inconsistency?(converger: string, key: string, changes: unknown): void;
}
