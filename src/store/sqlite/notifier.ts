import type { DatabaseSync, StatementSync } from "node:sqlite";
import { invalidArgument } from "../../errors/index.ts";
import type { Logger } from "../../log/index.ts";
import { storeClosed } from "../closed.ts";
import type { Channel, Notifier } from "../notifier.ts";

type Listener = (payload: string) => void;

/** Payload sent on every channel when another connection committed something (unknown what). */
export const ANY_CHANGE = "*";

/**
 * Notifiers of every open Store in this process, keyed by the database file's real path, so that
 * two Store instances on one file in one process hear each other at once.
 */
const hubs = new Map<string, Set<SqliteNotifier>>();

/**
 * Wake-ups for the SQLite driver: in-process delivery to every Store instance on the same file,
 * plus, while anyone listens, a cheap poll of `PRAGMA data_version` that emits `*` on every
 * listened channel when another connection (another process, or another Store instance) committed.
 * `onReconnect` never fires: there is no connection to lose.
 *
 * @example
 * ```ts
 * const stop = await store.notifier.listen("jobs", (queue) => wake(queue));
 * await stop();
 * ```
 */
export class SqliteNotifier implements Notifier {
  readonly #key: string;
  readonly #db: DatabaseSync;
  readonly #pollMs: number;
  readonly #log: Logger;
  readonly #listeners = new Map<string, Set<Listener>>();
  #dataVersion: StatementSync | undefined;
  #lastVersion = -1;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Checks run on every poll tick (pending caller-transaction commits); removed when they return true. */
  readonly #tickChecks = new Set<() => boolean>();
  #checkTimer: NodeJS.Timeout | undefined;

  constructor(key: string, db: DatabaseSync, pollMs: number, log: Logger) {
    this.#key = key;
    this.#db = db;
    this.#pollMs = pollMs;
    this.#log = log;
    let hub = hubs.get(key);
    if (hub === undefined) {
      hub = new Set();
      hubs.set(key, hub);
    }
    hub.add(this);
  }

  async listen(
    channel: Channel,
    listener: Listener,
    _onReconnect?: () => void,
  ): Promise<() => Promise<void>> {
    if (typeof channel !== "string" || channel.length === 0) {
      throw invalidArgument("TEND_E_INVALID_CHANNEL", "notification channel", channel, "a non-empty string");
    }
    if (typeof listener !== "function") {
      throw invalidArgument("TEND_E_INVALID_CHANNEL", "listener", listener, "a function (payload) => void");
    }
    if (this.#closed) throw storeClosed("sqlite");
    let set = this.#listeners.get(channel);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(channel, set);
    }
    // Wrap so that the same function listening twice gets two independent registrations.
    const entry: Listener = (payload) => listener(payload);
    set.add(entry);
    this.#startPoll();
    return async () => {
      const current = this.#listeners.get(channel);
      current?.delete(entry);
      if (current?.size === 0) this.#listeners.delete(channel);
      if (this.#listeners.size === 0) this.#stopPoll();
    };
  }

  async notify(channel: Channel, payload: string): Promise<void> {
    if (typeof channel !== "string" || channel.length === 0) {
      throw invalidArgument("TEND_E_INVALID_CHANNEL", "notification channel", channel, "a non-empty string");
    }
    if (this.#closed) throw storeClosed("sqlite");
    publish(this.#key, channel, payload);
  }

  /** True when any Store in this process on this file listens on `channel`. */
  hasListeners(channel: Channel): boolean {
    for (const n of hubs.get(this.#key) ?? []) if (n.#listeners.has(channel)) return true;
    return false;
  }

  /**
   * Runs `check` on a timer every poll interval until it returns true (or the notifier closes).
   * Used to announce jobs inserted in a caller's transaction once that transaction ends.
   */
  watch(check: () => boolean): void {
    if (this.#closed) return;
    this.#tickChecks.add(check);
    if (this.#checkTimer === undefined) {
      this.#checkTimer = setInterval(() => this.#runChecks(), this.#pollMs);
      this.#checkTimer.unref();
    }
  }

  /** Stops polling and leaves the hub; memoized. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopPoll();
    if (this.#checkTimer !== undefined) clearInterval(this.#checkTimer);
    this.#checkTimer = undefined;
    this.#tickChecks.clear();
    this.#listeners.clear();
    const hub = hubs.get(this.#key);
    hub?.delete(this);
    if (hub?.size === 0) hubs.delete(this.#key);
  }

  /** Delivers to this instance's listeners of `channel`, later in the event loop, isolating failures. */
  deliver(channel: string, payload: string): void {
    const set = this.#listeners.get(channel);
    if (set === undefined) return;
    for (const listener of [...set]) {
      setImmediate(() => {
        if (!set.has(listener)) return;
        try {
          listener(payload);
        } catch (err) {
          this.#log.error(
            { err, channel },
            "a notification listener threw; fix the listener (other listeners still ran)",
          );
        }
      });
    }
  }

  #startPoll(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#dataVersion ??= this.#db.prepare("PRAGMA data_version");
    this.#lastVersion = this.#readVersion();
    this.#timer = setInterval(() => this.#poll(), this.#pollMs);
    this.#timer.unref();
  }

  #stopPoll(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #readVersion(): number {
    const row = this.#dataVersion?.get() as { data_version?: number | bigint } | undefined;
    return Number(row?.data_version ?? -1);
  }

  #poll(): void {
    if (this.#closed || !this.#db.isOpen) return;
    let version: number;
    try {
      version = this.#readVersion();
    } catch (err) {
      // Busy or transient I/O: the next tick tries again; callers also poll for work.
      this.#log.debug({ err }, "reading PRAGMA data_version failed; retrying on the next tick");
      return;
    }
    if (version === this.#lastVersion) return;
    this.#lastVersion = version;
    for (const channel of this.#listeners.keys()) this.deliver(channel, ANY_CHANGE);
  }

  #runChecks(): void {
    for (const check of [...this.#tickChecks]) {
      let done = true;
      try {
        done = check();
      } catch (err) {
        this.#log.debug({ err }, "a pending commit check failed; dropping it (listeners also poll)");
      }
      if (done) this.#tickChecks.delete(check);
    }
    if (this.#tickChecks.size === 0 && this.#checkTimer !== undefined) {
      clearInterval(this.#checkTimer);
      this.#checkTimer = undefined;
    }
  }
}

/**
 * Delivers `payload` on `channel` to every Store instance in this process on the file `key`.
 *
 * @example
 * ```ts
 * publish("/srv/app/var/tend.db", "jobs", "default");
 * ```
 */
export function publish(key: string, channel: string, payload: string): void {
  for (const n of hubs.get(key) ?? []) n.deliver(channel, payload);
}
