import pg from "pg";
import { invalidArgument, TendError } from "../../errors/index.ts";
import type { Logger } from "../../log/index.ts";
import { storeClosed } from "../closed.ts";
import type { Channel, Notifier } from "../notifier.ts";
import { LISTEN_BACKOFF, type ReconnectBackoff, reconnectDelay } from "./backoff.ts";
import { type ErrorContext, storeError } from "./errors.ts";
import { destroySocket } from "./pool.ts";
import { quoteIdent } from "./identifiers.ts";

interface Subscription {
  listener: (payload: string) => void;
  onReconnect: (() => void) | undefined;
}

interface ChannelState {
  subs: Set<Subscription>;
  /** Settles once LISTEN was sent on the current connection (or failed). */
  ready: Promise<void>;
}

const CHANNEL_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/**
 * The physical PostgreSQL channel of a logical channel: `<schema>.<channel>`, so that several
 * tend schemas in one database never wake each other. The insert trigger uses the same naming.
 *
 * @example
 * ```ts
 * physicalChannel("tend", "jobs"); // "tend.jobs"
 * ```
 */
export function physicalChannel(schema: string, channel: Channel): string {
  const name = `${schema}.${channel}`;
  if (typeof channel !== "string" || !CHANNEL_PATTERN.test(channel) || Buffer.byteLength(name) > 63) {
    throw invalidArgument(
      "TEND_E_INVALID_CHANNEL",
      "notification channel",
      channel,
      `letters, digits and "_.:-", at most ${62 - Buffer.byteLength(schema)} characters`,
    );
  }
  return name;
}

/** Options of {@link PostgresNotifier}. */
export interface PostgresNotifierOptions {
  connectionString: string;
  schema: string;
  pool: pg.Pool;
  log: Logger;
  /** The store's URL (password removed) and timeouts, for errors and for the connection's own timeouts. */
  errors: ErrorContext;
  backoff?: ReconnectBackoff;
}

/**
 * LISTEN/NOTIFY over one dedicated connection per store. When that connection drops, it
 * reconnects with capped exponential backoff and jitter, LISTENs again on every channel and then
 * calls every listener's `onReconnect` (notifications sent meanwhile are lost; callers re-poll).
 * An idle connection whose network path froze shows no error (TCP keeps it open), so the listener
 * sends `SELECT 1` every twice the connect timeout; one not answered within the connect timeout
 * counts as a lost connection.
 *
 * @example
 * ```ts
 * const stop = await store.notifier.listen("jobs", (queue) => wake(queue), () => wakeAll());
 * await stop();
 * ```
 */
export class PostgresNotifier implements Notifier {
  readonly #options: PostgresNotifierOptions;
  readonly #backoff: ReconnectBackoff;
  readonly #channels = new Map<string, ChannelState>();
  #client: pg.Client | null = null;
  #connecting: Promise<pg.Client> | null = null;
  #everConnected = false;
  #reconnecting = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** The tail of the LISTEN/UNLISTEN commands sent on the dedicated connection. */
  #commands: Promise<unknown> = Promise.resolve();

  constructor(options: PostgresNotifierOptions) {
    this.#options = options;
    this.#backoff = options.backoff ?? LISTEN_BACKOFF;
  }

  async listen(
    channel: Channel,
    listener: (payload: string) => void,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>> {
    const physical = physicalChannel(this.#options.schema, channel);
    if (typeof listener !== "function") {
      throw invalidArgument("TEND_E_INVALID_CHANNEL", "listener", listener, "a function (payload) => void");
    }
    this.#assertOpen();
    const sub: Subscription = { listener, onReconnect };
    let state = this.#channels.get(physical);
    if (state === undefined) {
      state = { subs: new Set([sub]), ready: this.#listenOn(physical) };
      this.#channels.set(physical, state);
    } else {
      state.subs.add(sub);
    }
    try {
      await state.ready;
    } catch (err) {
      state.subs.delete(sub);
      if (state.subs.size === 0 && this.#channels.get(physical) === state) this.#channels.delete(physical);
      throw err;
    }
    let stopped = false;
    return async () => {
      if (stopped) return;
      stopped = true;
      const current = this.#channels.get(physical);
      if (current === undefined || !current.subs.delete(sub) || current.subs.size > 0) return;
      this.#channels.delete(physical);
      const client = this.#client;
      if (client !== null) await this.#send(client, `UNLISTEN ${quoteIdent(physical)}`).catch(() => {});
    };
  }

  async notify(channel: Channel, payload: string): Promise<void> {
    const physical = physicalChannel(this.#options.schema, channel);
    this.#assertOpen();
    await this.#options.pool.query({
      name: "tend.notify",
      text: "SELECT pg_notify($1, $2)",
      values: [physical, String(payload)],
    });
  }

  /** Stops listening and closes the dedicated connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#channels.clear();
    const client = this.#client ?? (await this.#connecting?.catch(() => null)) ?? null;
    this.#client = null;
    if (client === null) return;
    // A frozen path never answers the goodbye: give it the connect timeout, then drop the socket.
    const ended = client.end().catch(() => {});
    const timer = setTimeout(() => destroySocket(client), this.#options.errors.timeouts.connectMs);
    await ended;
    clearTimeout(timer);
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw storeClosed("postgres");
    }
  }

  /**
   * Sends one command on the dedicated connection after the ones before it: listeners subscribe
   * and unsubscribe concurrently, and a pg client must not be given a query while one runs.
   */
  #send(client: pg.Client, sql: string): Promise<void> {
    const sent = this.#commands.then(() => client.query(sql)).then(() => undefined);
    this.#commands = sent.catch(() => {});
    return sent;
  }

  /** Sends LISTEN for a new channel; while reconnecting, the reconnect sends it instead. */
  async #listenOn(physical: string): Promise<void> {
    if (this.#reconnecting) return;
    const client = await this.#connect();
    if (this.#client === client) await this.#send(client, `LISTEN ${quoteIdent(physical)}`);
  }

  /** The dedicated connection, opening it on first use (errors then go to the caller). */
  #connect(): Promise<pg.Client> {
    if (this.#client !== null) return Promise.resolve(this.#client);
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #open(): Promise<pg.Client> {
    const { timeouts } = this.#options.errors;
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: timeouts.connectMs,
      application_name: "tend:listen",
    });
    let lost = false;
    let ping: NodeJS.Timeout | undefined;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      clearInterval(ping);
      if (this.#client === client) this.#connectionLost(err);
    };
    client.on("error", onLost);
    client.on("end", () => onLost());
    client.on("notification", (msg) => this.#deliver(msg.channel, msg.payload ?? ""));
    try {
      await client.connect();
    } catch (err) {
      destroySocket(client);
      const mapped = storeError(err, this.#options.errors);
      throw new TendError(
        "TEND_E_LISTEN_FAILED",
        `Could not open the LISTEN connection to PostgreSQL: ${(mapped as Error).message}`,
        { cause: mapped },
      );
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      throw new Error("The PostgreSQL store was closed while its listener connected.");
    }
    this.#client = client;
    this.#everConnected = true;
    ping = setInterval(() => {
      this.#commands
        .then(() =>
          client.query(
            // pg reads a per-query query_timeout; its types do not list it.
            { text: "SELECT 1", query_timeout: timeouts.connectMs } as pg.QueryConfig,
          ),
        )
        .catch((err: unknown) => {
          if (lost) return;
          onLost(
            new Error(`the LISTEN connection did not answer a check within ${timeouts.connectMs} ms`, {
              cause: err,
            }),
          );
          destroySocket(client);
        });
    }, 2 * timeouts.connectMs);
    ping.unref();
    return client;
  }

  #deliver(physical: string, payload: string): void {
    const state = this.#channels.get(physical);
    if (state === undefined) return;
    for (const sub of [...state.subs]) {
      try {
        sub.listener(payload);
      } catch (err) {
        this.#options.log.error(
          { err, channel: physical },
          "a notification listener threw; it stays subscribed",
        );
      }
    }
  }

  #connectionLost(err: Error | undefined): void {
    this.#client = null;
    if (this.#closed || !this.#everConnected) return;
    this.#options.log.warn(
      { err: err?.message },
      "the LISTEN connection to PostgreSQL was lost; reconnecting (workers keep polling meanwhile)",
    );
    this.#reconnecting = true;
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    this.#attempt += 1;
    const delay = reconnectDelay(this.#attempt, this.#backoff, Math.random);
    this.#timer = setTimeout(() => {
      this.#reconnect().catch(() => {});
    }, delay);
    this.#timer.unref();
  }

  async #reconnect(): Promise<void> {
    if (this.#closed) return;
    let client: pg.Client | null = null;
    try {
      client = await this.#connect();
      for (const physical of this.#channels.keys())
        await this.#send(client, `LISTEN ${quoteIdent(physical)}`);
    } catch (err) {
      if (client !== null && this.#client === client) {
        this.#client = null;
        client.end().catch(() => {});
      }
      this.#options.log.warn(
        { err: (err as Error).message, attempt: this.#attempt },
        "reconnecting the LISTEN connection to PostgreSQL failed; retrying with backoff",
      );
      this.#scheduleReconnect();
      return;
    }
    this.#options.log.info({ attempts: this.#attempt }, "the LISTEN connection to PostgreSQL is back");
    this.#attempt = 0;
    this.#reconnecting = false;
    for (const state of this.#channels.values()) {
      for (const sub of state.subs) {
        try {
          sub.onReconnect?.();
        } catch (err) {
          this.#options.log.error({ err }, "an onReconnect callback threw");
        }
      }
    }
  }
}
