import type { RouteDoc, RouteInfo, Router } from "../router.ts";
import { sendJson } from "../router.ts";
import { TEND_VERSION } from "../../store/index.ts";

const FILTERS = ["state", "queue", "kind"] as const;
const PAGE = ["limit", "before"] as const;

/** What each admin route does: the OpenAPI description is built from these and the routes served. */
export const API_DOCS: Readonly<Record<string, RouteDoc>> = {
  "GET /api": { summary: "Whether the API is read-only, the driver, and the paths served." },
  "GET /api/openapi.json": { summary: "This OpenAPI description." },
  "GET /api/queues": {
    summary:
      "Every queue with pending jobs or recent activity: counts by state, rates, oldest available age.",
  },
  "GET /api/activity": {
    summary:
      "The last hour per minute and per queue: jobs enqueued, completed, discarded, cancelled (with totals) and the estimated backlog; read at most every 10 s.",
  },
  "GET /api/jobs": {
    summary:
      "Jobs, newest first, filtered (`from`/`to`: creation time range, ISO 8601; `q`: text in payloads and errors); keyset-paginated (`next` is the next `before`; a filtered page searches at most 20,000 ids and says `searchedTo`).",
    query: [...FILTERS, "from", "to", "q", ...PAGE],
  },
  "GET /api/jobs/:id": { summary: "One job: payload, result, errors, lease and worker." },
  "GET /api/jobs/bulk/:action": {
    summary: "How many jobs a bulk action (retry, cancel, delete) would act on now.",
    query: FILTERS,
  },
  "GET /api/events": {
    summary:
      "Server-Sent Events: `queues` when the counts change, or with `job`, `job` when that job changes. HEAD answers the stream's headers and ends (no stream is opened).",
    query: ["job"],
    produces: "text/event-stream",
  },
  "GET /api/convergers": { summary: "Convergers of this process and parked keys of every converger." },
  "GET /api/convergers/inconsistencies": {
    summary: "Recorded inconsistencies, newest first.",
    query: ["converger", "key", "limit"],
  },
  "GET /api/workers": {
    summary:
      "Every tend process registered in the database (host, pid, master, queues, jobs in flight, memory, last heartbeat, alive).",
  },
  "GET /api/audit": { summary: "The audit trail of actions, newest first.", query: PAGE },
  "POST /api/jobs/bulk/retry": {
    summary: "Retry every final job matching the filter (a job whose unique key is held is skipped).",
    body: "{ state?, queue?, kind? } (at least one)",
    auth: true,
  },
  "POST /api/jobs/bulk/cancel": {
    summary: "Cancel every pending job matching the filter.",
    body: "{ state?, queue?, kind? } (at least one)",
    auth: true,
  },
  "POST /api/jobs/bulk/delete": {
    summary: "Delete every job matching the filter that is not running.",
    body: "{ state?, queue?, kind? } (at least one)",
    auth: true,
  },
  "POST /api/jobs/:id/retry": { summary: "Retry a completed, discarded or cancelled job.", auth: true },
  "POST /api/jobs/:id/cancel": {
    summary: "Cancel a pending job, or ask the worker running it to stop.",
    auth: true,
  },
  "DELETE /api/jobs/:id": { summary: "Delete a job that is not running.", auth: true },
  "POST /api/jobs": {
    summary: "Enqueue a job with the options and validation of `enqueue`.",
    body: "{ kind, payload?, options? }",
    auth: true,
  },
};

/** Pure: an OpenAPI path (`/api/jobs/{id}`) from a route pattern (`/api/jobs/:id`). */
export function openApiPath(pattern: string): string {
  return pattern.replace(/:([A-Za-z_]+)/g, "{$1}");
}

const ERROR = { $ref: "#/components/responses/Error" };

/** Routes that answer without reading the database (so never 503). */
const NO_STORE = new Set(["GET /api", "GET /api/openapi.json"]);

/**
 * Pure: the OpenAPI 3.1 description of the `/api` routes served, from the routes themselves
 * (method, path, path parameters) and their descriptions.
 *
 * @example
 * ```ts
 * const doc = openApiOf(router.routes); // { openapi: "3.1.0", paths: { "/api/jobs/{id}": { get: ... } } }
 * ```
 */
export function openApiOf(routes: readonly RouteInfo[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (r.path !== "/api" && !r.path.startsWith("/api/")) continue;
    const doc = r.doc ?? { summary: `${r.method} ${r.path}` };
    const parameters: unknown[] = [];
    for (const m of r.path.matchAll(/:([A-Za-z_]+)/g))
      parameters.push({ name: m[1], in: "path", required: true, schema: { type: "string" } });
    for (const q of doc.query ?? [])
      parameters.push({ name: q, in: "query", required: false, schema: { type: "string" } });
    const ok =
      doc.produces === undefined
        ? { description: "OK", content: { "application/json": { schema: { type: "object" } } } }
        : { description: "OK", content: { [doc.produces]: { schema: { type: "string" } } } };
    const op: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[/:](\w)/g, (_m, c: string) => c.toUpperCase()).replace(/\W/g, "")}`,
      summary: doc.summary,
      ...(parameters.length === 0 ? {} : { parameters }),
      ...(doc.body === undefined
        ? {}
        : {
            requestBody: {
              required: true,
              description: doc.body,
              content: { "application/json": { schema: { type: "object" } } },
            },
          }),
      ...(doc.auth === true ? { security: [{ adminToken: [] }] } : {}),
      responses: {
        [r.method === "POST" && r.path === "/api/jobs" ? "201" : "200"]: ok,
        "400": ERROR,
        ...(doc.auth === true ? { "403": ERROR, "409": ERROR } : {}),
        ...(r.path.includes(":") ? { "404": ERROR } : {}),
        // The database unreachable or not answering in time (TEND_E_STORE_UNREACHABLE,
        // TEND_E_STORE_TIMEOUT), with a Retry-After header.
        ...(NO_STORE.has(`${r.method} ${r.path}`) ? {} : { "503": ERROR }),
      },
    };
    (paths[openApiPath(r.path)] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "tend admin API",
      version: TEND_VERSION,
      description:
        "Read routes for anyone who can reach the server; actions need the admin token. Each route takes only the query parameters listed for it, each at most once (else 400 TEND_E_ADMIN_BAD_REQUEST). See docs/dashboard.md.",
    },
    paths,
    components: {
      securitySchemes: { adminToken: { type: "http", scheme: "bearer" } },
      responses: {
        Error: {
          description: "An error: `{ error: { code, message } }` with a stable TEND_E_... code.",
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["error"],
                properties: {
                  error: {
                    type: "object",
                    required: ["code", "message"],
                    properties: { code: { type: "string" }, message: { type: "string" } },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}

/**
 * Describes every admin route from {@link API_DOCS} and serves `GET /api/openapi.json`, built
 * once from the routes as they are served.
 *
 * @example
 * ```ts
 * addOpenApi(router); // after the other admin routes
 * ```
 */
export function addOpenApi(router: Router): void {
  router.get("/api/openapi.json", (_req, res) => sendJson(res, 200, openApiOf(router.routes)));
  for (const [key, doc] of Object.entries(API_DOCS)) {
    const space = key.indexOf(" ");
    router.describe(key.slice(0, space) as "GET" | "POST" | "DELETE", key.slice(space + 1), doc);
  }
}
