import { connect, createServer, type Socket } from "node:net";

/** A TCP proxy in front of a server, whose path can be frozen: see {@link startProxy}. */
export interface FreezableProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Stops delivering bytes both ways; nothing is answered, refused or reset. */
  freeze(): void;
  /** Delivers again: what waited first, as TCP would retransmit it. */
  unfreeze(): void;
  /** Closes the proxy and every connection through it. */
  close(): Promise<void>;
}

/** One side of a proxied connection: its socket, and the bytes for it held back by a freeze. */
interface Side {
  socket: Socket | null;
  held: Buffer[];
  /** The peer ended politely while frozen: end this side once the held bytes are delivered. */
  endAfter: boolean;
}

/**
 * Starts a TCP proxy on 127.0.0.1 to `target`, for tests of a frozen network path (packets
 * dropped somewhere in between, nothing refused or reset). While frozen, bytes are held back in
 * both directions and new connections are accepted but not connected onward. On unfreeze, what
 * was held is delivered, as TCP would retransmit it, except for a connection whose client reset
 * it meanwhile: a reset socket's unacknowledged bytes are lost, so they are dropped and the
 * server side is closed. It never touches the server itself.
 *
 * @example
 * ```ts
 * const proxy = await startProxy({ host: "127.0.0.1", port: 5432 });
 * const store = await openStore(proxy.via(db.url));
 * proxy.freeze();
 * ```
 */
export async function startProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  const sockets = new Set<Socket>();
  const flushes = new Set<() => void>();
  let frozen = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  };
  const server = createServer((clientSocket) => {
    track(clientSocket);
    const client: Side = { socket: clientSocket, held: [], endAfter: false };
    const upstream: Side = { socket: null, held: [], endAfter: false };
    let reset = false;
    const send = (to: Side, chunk: Buffer) => {
      if (frozen || to.socket === null) to.held.push(chunk);
      else to.socket.write(chunk);
    };
    const open = () => {
      const socket = connect(target.port, target.host);
      track(socket);
      upstream.socket = socket;
      socket.on("data", (chunk) => send(client, chunk));
      socket.on("end", () => (frozen ? (client.endAfter = true) : clientSocket.end()));
      socket.on("error", () => clientSocket.destroy());
      socket.on("close", () => {
        if (!frozen) clientSocket.destroy();
      });
    };
    const flush = () => {
      if (reset) {
        flushes.delete(flush);
        upstream.socket?.destroy();
        return;
      }
      if (upstream.socket === null) open();
      for (const side of [upstream, client]) {
        for (const chunk of side.held.splice(0)) side.socket!.write(chunk);
        if (side.endAfter) side.socket!.end();
      }
    };
    flushes.add(flush);
    clientSocket.on("data", (chunk) => send(upstream, chunk));
    clientSocket.on("end", () => {
      if (frozen || upstream.socket === null) upstream.endAfter = true;
      else upstream.socket.end();
    });
    clientSocket.on("error", () => {
      // A reset: bytes not yet delivered are lost, as on a real network.
      reset = true;
    });
    clientSocket.on("close", () => {
      if (!frozen) {
        flushes.delete(flush);
        if (reset) upstream.socket?.destroy();
        else if (upstream.socket !== null && !upstream.endAfter) upstream.socket.end();
      }
    });
    if (!frozen) open();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    via(url) {
      const parsed = new URL(url);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(port);
      return parsed.toString();
    },
    freeze() {
      frozen = true;
    },
    unfreeze() {
      frozen = false;
      for (const flush of [...flushes]) flush();
    },
    async close() {
      frozen = false;
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
