import type { IncomingMessage, ServerResponse } from "node:http";
import { invalidArgument, isTendError } from "../errors/index.ts";
import { checkedQuery } from "./query-keys.ts";

/** Path parameters of a matched route (`/api/jobs/:id` gives `{ id }`), decoded. */
export type RouteParams = Readonly<Record<string, string>>;

/** What a handler may need to know of the server that runs it (see {@link Router.allowHosts}). */
export interface RouteContext {
  /**
   * The host names the operator listed in `http.allowedHosts` (lower case, without port): names
   * this server is also reached by, e.g. behind a proxy. The login cookie's Origin check accepts
   * them (see src/http/api/session.ts).
   */
  readonly allowedHosts: readonly string[];
}

/** A route's handler: writes the whole response (it may be async). */
export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: RouteParams,
  context: RouteContext,
) => void | Promise<void>;

/** Methods a route may answer (HEAD is answered by GET routes). */
export type RouteMethod = "GET" | "POST" | "DELETE";

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

/** Writes an error as JSON: `{ error: { code, message } }`. */
export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

/** What the OpenAPI description says of a route (see src/http/api/openapi.ts). */
export interface RouteDoc {
  /** One line: what it answers or does. */
  summary: string;
  /**
   * Query parameters it reads (all optional strings). A described route accepts these and no
   * others: an unknown or repeated one answers 400 TEND_E_ADMIN_BAD_REQUEST before the handler
   * runs (see src/http/query-keys.ts), so the OpenAPI description and the server agree.
   */
  query?: readonly string[];
  /** What its JSON request body holds, when it reads one. */
  body?: string;
  /** It needs the admin token (Bearer). */
  auth?: boolean;
  /** Its answer is not JSON (an event stream, a page). */
  produces?: string;
}

/** A route as served: method, path pattern and its description. */
export interface RouteInfo {
  method: RouteMethod;
  path: string;
  doc: RouteDoc | undefined;
}

interface Route {
  method: RouteMethod;
  doc?: RouteDoc;
  /** The pattern's segments; `:name` matches any one non-empty segment. */
  segments: string[];
  handler: RouteHandler;
}

/** Pure: the params when `pattern` matches `path` (both split on `/`), else null. */
function match(pattern: readonly string[], path: readonly string[]): Record<string, string> | null {
  if (pattern.length !== path.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = path[i]!;
    if (p.startsWith(":")) {
      if (s === "") return null;
      let value: string;
      try {
        value = decodeURIComponent(s);
      } catch {
        return null;
      }
      params[p.slice(1)] = value;
    } else if (p !== s) return null;
  }
  return params;
}

/**
 * A tiny router: exact paths with `:name` segments, per method. The few endpoints tend serves
 * need nothing more. Unknown paths answer 404 and other methods 405, both as JSON.
 *
 * @example
 * ```ts
 * const router = new Router()
 *   .get("/healthz", (_req, res) => sendJson(res, 200, { status: "ok" }))
 *   .route("POST", "/api/jobs/:id/retry", (_req, res, { id }) => sendJson(res, 200, { id }));
 * createServer((req, res) => router.handle(req, res, console.error));
 * ```
 */
export class Router {
  readonly #routes: Route[] = [];
  readonly #closing = new AbortController();
  #context: RouteContext = { allowedHosts: [] };

  /**
   * Aborted when the server begins to close: long-lived responses (an event stream) end then,
   * so that closing does not wait for them.
   */
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /** Aborts {@link closing} (called by the server as it closes). */
  close(): void {
    this.#closing.abort();
  }

  /**
   * Sets the host names handlers are told of (`http.allowedHosts`, see {@link RouteContext});
   * `listenHttp` (server.ts) calls it with the server's settings. Throws TEND_E_INVALID_HTTP_OPTIONS
   * for anything but an array of host names.
   *
   * @example
   * ```ts
   * router.allowHosts(["tend.example.com"]);
   * ```
   */
  allowHosts(hosts: readonly string[]): this {
    if (
      !Array.isArray(hosts) ||
      hosts.some((h) => typeof h !== "string" || !/^[A-Za-z0-9.-]{1,253}$/.test(h))
    )
      throw invalidArgument(
        "TEND_E_INVALID_HTTP_OPTIONS",
        "allowed hosts",
        hosts,
        "an array of host names without port (letters, digits, dots and hyphens)",
      );
    this.#context = { allowedHosts: hosts.map((h) => h.toLowerCase()) };
    return this;
  }

  /** Adds a GET route (HEAD is answered by it too, unless it answers HEAD itself). */
  get(path: string, handler: RouteHandler, doc?: RouteDoc): this {
    return this.route("GET", path, handler, doc);
  }

  /** Adds a route for one method on a path pattern (`/api/jobs/:id`), described by `doc`. */
  route(method: RouteMethod, pattern: string, handler: RouteHandler, doc?: RouteDoc): this {
    this.#routes.push({
      method,
      segments: pattern.split("/"),
      handler,
      ...(doc === undefined ? {} : { doc }),
    });
    return this;
  }

  /** Sets the description of a route already added (`method` and its exact pattern). */
  describe(method: RouteMethod, pattern: string, doc: RouteDoc): this {
    const route = this.#routes.find((r) => r.method === method && r.segments.join("/") === pattern);
    if (route === undefined) throw new Error(`No route ${method} ${pattern} to describe.`);
    route.doc = doc;
    return this;
  }

  /** Every route in the order added, with its description. */
  get routes(): RouteInfo[] {
    return this.#routes.map((r) => ({ method: r.method, path: r.segments.join("/"), doc: r.doc }));
  }

  /** The path patterns served. */
  get paths(): string[] {
    return [...new Set(this.#routes.map((r) => r.segments.join("/")))];
  }

  /** Answers one request; a handler that throws answers 500 (and the error goes to `onError`). */
  async handle(req: IncomingMessage, res: ServerResponse, onError: (err: unknown) => void): Promise<void> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = (q === -1 ? url : url.slice(0, q)).split("/");
    const method = req.method === "HEAD" ? "GET" : req.method;
    const allowed = new Set<string>();
    let found: { route: Route; params: Record<string, string> } | undefined;
    for (const route of this.#routes) {
      const params = match(route.segments, path);
      if (params === null) continue;
      allowed.add(route.method);
      if (found === undefined && route.method === method) found = { route, params };
    }
    // A NUL byte is no part of any name tend stores (PostgreSQL refuses it in text).
    if (/%00/.test(url))
      return sendError(
        res,
        400,
        "TEND_E_ADMIN_BAD_REQUEST",
        "The request's path or query holds a NUL byte (%00).",
      );
    if (allowed.size === 0) {
      return sendJson(res, 404, {
        error: {
          code: "TEND_E_HTTP_NOT_FOUND",
          message: `This server does not serve ${path.join("/").slice(0, 200)}.`,
        },
        paths: this.paths,
      });
    }
    if (found === undefined) {
      if (allowed.has("GET")) allowed.add("HEAD");
      const allow = [...allowed].join(", ");
      res.setHeader("allow", allow);
      return sendError(
        res,
        405,
        "TEND_E_HTTP_METHOD_NOT_ALLOWED",
        `This path takes ${allow}, not ${req.method}.`,
      );
    }
    // A described route (the admin API) takes exactly the query parameters its description lists.
    if (found.route.doc !== undefined) {
      try {
        checkedQuery(url, found.route.doc.query ?? []);
      } catch (err) {
        if (!isTendError(err)) throw err;
        return sendError(res, 400, err.code, err.message);
      }
    }
    try {
      await found.route.handler(req, res, found.params, this.#context);
    } catch (err) {
      onError(err);
      if (!res.headersSent)
        sendError(
          res,
          500,
          "TEND_E_HTTP_INTERNAL",
          "The handler failed; the server's log has the error (HTTP handler failed).",
        );
      else res.destroy();
    }
  }
}
