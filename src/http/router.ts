import type { IncomingMessage, ServerResponse } from "node:http";

/** A route's handler: writes the whole response (it may be async). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Writes `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

/**
 * A tiny exact-path router for GET (and HEAD) requests: the few endpoints tend serves need no
 * patterns. Unknown paths answer 404 and other methods 405, both as JSON.
 *
 * @example
 * ```ts
 * const router = new Router().get("/healthz", (_req, res) => sendJson(res, 200, { status: "ok" }));
 * createServer((req, res) => router.handle(req, res));
 * ```
 */
export class Router {
  readonly #routes = new Map<string, RouteHandler>();

  /** Adds a GET route on an exact path (HEAD is answered by it too). */
  get(path: string, handler: RouteHandler): this {
    this.#routes.set(path, handler);
    return this;
  }

  /** The paths served. */
  get paths(): string[] {
    return [...this.#routes.keys()];
  }

  /** Answers one request; a handler that throws answers 500 (and the error goes to `onError`). */
  async handle(req: IncomingMessage, res: ServerResponse, onError: (err: unknown) => void): Promise<void> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const handler = this.#routes.get(path);
    if (handler === undefined) return sendJson(res, 404, { error: "not found", paths: this.paths });
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return sendJson(res, 405, { error: "method not allowed" });
    }
    try {
      await handler(req, res);
    } catch (err) {
      onError(err);
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    }
  }
}
