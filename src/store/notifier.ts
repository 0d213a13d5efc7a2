/** Wake-up channels. PostgreSQL: LISTEN/NOTIFY; SQLite: in-process events plus a data_version poll across processes. */
export type Channel = "jobs" | "cancel" | "batch" | (string & {});

export interface Notifier {
  /**
   * Calls `listener(payload)` for each notification on `channel`. Delivery is best effort: callers
   * must also poll. `onReconnect` (if given) is called after the listener reconnected, because
   * notifications sent while disconnected are lost; callers re-poll then.
   * Resolves once listening; the returned function stops listening.
   */
  listen(
    channel: Channel,
    listener: (payload: string) => void,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>>;
  /** Sends a notification (outside any transaction). */
  notify(channel: Channel, payload: string): Promise<void>;
}
