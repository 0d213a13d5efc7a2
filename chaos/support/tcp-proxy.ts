/**
 * A TCP proxy on 127.0.0.1 in front of a server, to break the path to it without touching the
 * server: `cut()` destroys every connection and refuses new ones (the listening socket closes, so
 * a connect gets ECONNREFUSED) until `restore()`; `freeze()` keeps every connection open and
 * accepts new ones but forwards no byte in either direction (nothing is dropped: what arrives is
 * held) until `thaw()` delivers what was held and forwards again.
 */
import { createServer, type Server, type Socket, connect } from "node:net";

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Bytes held while frozen, per direction, in order. */
  toUpstream: Buffer[];
  toClient: Buffer[];
}

export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  #server: Server | null = null;
  #port = 0;
  #frozen = false;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** The port it listens on (after `listen()`). */
  get port(): number {
    return this.#port;
  }

  /** Open connections now. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** Starts listening (on a free port the first time, on the same port after a cut). */
  async listen(): Promise<number> {
    const server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the proxy has no port");
    this.#port = address.port;
    this.#server = server;
    return this.#port;
  }

  #accept(client: Socket): void {
    const upstream = connect(this.#target.port, this.#target.host);
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [] };
    this.#pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.#pairs.delete(pair);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.on("data", (chunk: Buffer) => {
      if (this.#frozen) pair.toUpstream.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (this.#frozen) pair.toClient.push(chunk);
      else client.write(chunk);
    });
  }

  /** Destroys every connection and refuses new ones until `restore()`. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    const closed =
      server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.#pairs.clear();
    await closed;
  }

  /** Accepts connections again after a cut. */
  async restore(): Promise<void> {
    if (this.#server === null) await this.listen();
  }

  /** Stops forwarding bytes, holding them, until `thaw()`. */
  freeze(): void {
    this.#frozen = true;
  }

  /** Delivers what was held and forwards again. */
  thaw(): void {
    this.#frozen = false;
    for (const pair of this.#pairs) {
      for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk);
      for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
    }
  }

  /** Closes everything. */
  async close(): Promise<void> {
    await this.cut();
  }
}
