/**
 * A signal of short life linked to signals of long life (a task's), released when done.
 *
 * `AbortSignal.any([taskSignal, ...])` registers the new signal with the long-lived one through
 * weak references and a finalization registry; a loop that does so thousands of times an hour
 * (a converger's sleeps and runs, an inbox's file attempts) leaves weak cells behind that a
 * long-running process accumulates. A linked signal instead adds one plain listener to each
 * parent and removes it on {@link LinkedSignal.dispose}, together with its timer.
 */

/** A signal that aborts when a parent aborts, after an optional timeout, or when aborted itself. */
export interface LinkedSignal {
  /** Aborts with the first parent's reason, a `TimeoutError` DOMException, or {@link abort}'s reason. */
  readonly signal: AbortSignal;
  /** Whether the signal aborted because its timeout ran out (not a parent or {@link abort}). */
  readonly timedOut: boolean;
  /** Aborts the signal now (a wake-up, a kick). */
  abort(reason?: unknown): void;
  /** Removes the listeners from the parents and clears the timer; the signal no longer changes. */
  dispose(): void;
}

/**
 * Links a new signal to `parents`, optionally with a timeout in ms. Call `dispose()` when the
 * work it guards is over (in a `finally`).
 *
 * @example
 * ```ts
 * const link = linkSignals([taskSignal], 5_000);
 * try {
 *   await fetch(url, { signal: link.signal });
 * } finally {
 *   link.dispose();
 * }
 * ```
 */
export function linkSignals(parents: readonly AbortSignal[], timeoutMs?: number): LinkedSignal {
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const listeners: Array<[AbortSignal, () => void]> = [];
  const dispose = (): void => {
    for (const [parent, listener] of listeners) parent.removeEventListener("abort", listener);
    listeners.length = 0;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const abort = (reason: unknown): void => {
    if (controller.signal.aborted) return;
    dispose();
    controller.abort(reason);
  };
  for (const parent of parents) {
    if (parent.aborted) {
      abort(parent.reason);
      break;
    }
    const listener = (): void => abort(parent.reason);
    parent.addEventListener("abort", listener, { once: true });
    listeners.push([parent, listener]);
  }
  if (timeoutMs !== undefined && !controller.signal.aborted) {
    timer = setTimeout(() => {
      timedOut = true;
      abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
    }, timeoutMs);
  }
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    abort: (reason?: unknown) =>
      abort(reason ?? new DOMException("This operation was aborted", "AbortError")),
    dispose,
  };
}
