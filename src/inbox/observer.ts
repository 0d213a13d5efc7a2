/**
 * What the inbox tells observers (metrics, the error hook, diagnostics channels): the app passes
 * one in the inbox's dependencies. Each call must be cheap.
 *
 * @example
 * ```ts
 * createInbox(options, { log, observer: { fileEnded: (inbox, file, outcome, ms) => seconds.observe(ms / 1000) } });
 * ```
 */
export interface InboxObserver {
  /**
   * A claimed file's processing is starting (optional): what it returns runs each attempt's
   * `process` call (a span made active) and is ended once with the file's outcome: `done`,
   * `failed`, `returned` (handed back at shutdown), `stuck` (left in the claim folder) or `gone`.
   */
  fileStarted?(inbox: string, file: string): InboxFileObservation | undefined;
  /**
   * A file's processing ended: `done`, `failed` (moved to failed/ after its last attempt) or
   * `retried` (an attempt failed; another follows). `ms` is the time since it was claimed.
   */
  fileEnded(
    inbox: string,
    file: string,
    outcome: "done" | "failed" | "retried",
    ms: number,
    error?: unknown,
  ): void;
}

/** One inbox file being watched (a span): made when its processing starts. */
export interface InboxFileObservation {
  /** Runs one attempt's `process` call inside the file's context. */
  run<T>(fn: () => T): T;
  /** Called once with how the file's processing ended and, for `failed`, the last error. */
  end(outcome: "done" | "failed" | "returned" | "stuck" | "gone", error: unknown): void;
}
