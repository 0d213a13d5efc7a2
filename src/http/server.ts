import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { TendError } from "../errors/index.ts";
import type { Task } from "../lifecycle/index.ts";
import type { HttpSettings } from "./options.ts";
import { hostAllowed, hostName } from "./host-check.ts";
import { type Router, sendJson } from "./router.ts";

/** How the server's Task ends at shutdown. */
export interface HttpStopOptions {
  /**
   * While this returns true after shutdown began (the app's other tasks still draining), the
   * server keeps answering (`/readyz` says 503, `/metrics` still answers). Default: never.
   */
  serveWhile?: () => boolean;
  /** The longest the server waits for the others plus its own in-flight requests (ms). */
  budgetMs: number;
}

/** A listening HTTP server of tend. */
export interface HttpServer {
  /** The address bound (the port chosen when 0 was asked). */
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  /** The Task that keeps the server and closes it gracefully when the manager's signal aborts. */
  task(options: HttpStopOptions): Task;
  /** Closes at once (in-flight requests are cut); for a server whose task never ran. */
  close(): Promise<void>;
}

/**
 * Listens on `settings.host:port` and answers through `router`. Resolves once listening;
 * rejects with TEND_E_HTTP_LISTEN naming the address when the port is in use or the host is bad.
 *
 * Node's own `http` with a small router: tend serves a handful of fixed paths, and a framework
 * would add start-up time and dependencies for nothing (see the commit that added it).
 *
 * @example
 * ```ts
 * const server = await listenHttp({ port: 0, host: "127.0.0.1", maxEventLoopDelayMs: 5000 }, router, log);
 * manager.run(server.task({ budgetMs: 5_000 }));
 * ```
 */
export async function listenHttp(settings: HttpSettings, router: Router, log: Logger): Promise<HttpServer> {
  // Loaded here, so that an app without `http` never loads node:http.
  const { createServer } = await import("node:http");
  router.allowHosts(settings.allowedHosts);
  const server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host, settings.host, settings.allowedHosts)) {
      sendJson(res, 403, {
        error: {
          code: "TEND_E_HTTP_HOST_NOT_ALLOWED",
          message: `This server is bound to ${settings.host} and answers requests for localhost only, not for the host ${JSON.stringify(hostName(req.headers.host).slice(0, 100))}: open it as localhost or 127.0.0.1, or list that name in http.allowedHosts.`,
        },
      });
      return;
    }
    void router.handle(req, res, (err) => log.error({ err, url: req.url }, "HTTP handler failed"));
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  const wanted = `${formatHost(settings.host)}:${settings.port}`;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      reject(
        new TendError(
          "TEND_E_HTTP_LISTEN",
          `The HTTP server could not listen on ${wanted}: ${listenProblem(err)}.`,
          { details: { host: settings.host, port: settings.port, errno: err.code ?? null }, cause: err },
        ),
      );
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(settings.port, settings.host);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${formatHost(address.address)}:${address.port}`;
  log.info({ url }, "HTTP server listening");
  server.on("error", (err) => log.error({ err }, "HTTP server error"));
  return {
    host: address.address,
    port: address.port,
    url,
    task: (options) => ({
      name: "http",
      run: (signal) => serveUntil(server, router, signal, options, log),
    }),
    close: () => {
      router.close();
      return closeNow(server);
    },
  };
}

async function serveUntil(
  server: Server,
  router: Router,
  signal: AbortSignal,
  options: HttpStopOptions,
  log: Logger,
): Promise<void> {
  if (!signal.aborted) {
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }
  const deadline = performance.now() + options.budgetMs;
  // Keep answering probes and scrapes while the rest of the app drains.
  while (options.serveWhile?.() === true && performance.now() < deadline) await sleep(25);
  router.close();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // A keep-alive connection busy at close becomes idle when its response ends: close it then.
  const idle = setInterval(() => server.closeIdleConnections(), 25);
  const left = Math.max(0, deadline - performance.now());
  const timer = setTimeout(() => {
    log.warn(
      { budgetMs: options.budgetMs },
      "HTTP requests still running at the end of the budget; closing them",
    );
    server.closeAllConnections();
  }, left);
  try {
    await closed;
  } finally {
    clearInterval(idle);
    clearTimeout(timer);
  }
  log.info("HTTP server closed");
}

function closeNow(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function listenProblem(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "EADDRINUSE":
      return "the port is in use by another process (EADDRINUSE)";
    case "EADDRNOTAVAIL":
      return "the host is not an address of this machine (EADDRNOTAVAIL)";
    case "EACCES":
      return "permission denied (EACCES; ports below 1024 need privileges)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host name does not resolve (${err.code})`;
    default:
      return err.message;
  }
}
