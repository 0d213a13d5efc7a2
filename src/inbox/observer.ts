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
