import type { IncomingMessage, ServerResponse } from "node:http";
import { isTendError } from "../../errors/index.ts";
import { type RouteContext, type RouteHandler, type RouteParams, sendError } from "../router.ts";

const NOT_FOUND = new Set([
  "TEND_E_ADMIN_NOT_FOUND",
  "TEND_E_CRON_NOT_FOUND",
  "TEND_E_INBOX_FAILED_FILE_NOT_FOUND",
  "TEND_E_JOB_NOT_FOUND",
]);

/**
 * Codes of store errors that say the database cannot be used now (unreachable, not answering in
 * time, or closed as the server stops): 503, not the request's fault nor a bug.
 */
const UNAVAILABLE = new Set(["TEND_E_STORE_UNREACHABLE", "TEND_E_STORE_TIMEOUT", "TEND_E_STORE_CLOSED"]);

/** Seconds a client is told to wait (Retry-After) when the database is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * Pure: the HTTP status of a TendError code met by an admin request.
 *
 * @example
 * ```ts
 * statusOf("TEND_E_ADMIN_NOT_FOUND"); // 404
 * statusOf("TEND_E_STORE_UNREACHABLE"); // 503
 * ```
 */
export function statusOf(code: string): number {
  if (UNAVAILABLE.has(code)) return 503;
  if (code === "TEND_E_ADMIN_READ_ONLY" || code === "TEND_E_ADMIN_FORBIDDEN") return 403;
  if (NOT_FOUND.has(code)) return 404;
  if (code === "TEND_E_ADMIN_CONFLICT" || code === "TEND_E_RETRY_UNIQUE_KEY_HELD") return 409;
  if (code === "TEND_E_INBOX_RETRY_CONFLICT") return 409;
  if (code === "TEND_E_UNKNOWN_OPTION" || code === "TEND_E_ADMIN_BAD_REQUEST") return 400;
  // A request body naming a parent job that does not exist: bad input, not a missing resource.
  if (code === "TEND_E_JOB_PARENT_NOT_FOUND" || code === "TEND_E_JOB_DEPENDENCY_TOO_DEEP") return 400;
  if (/^TEND_E_INVALID_/.test(code) || code === "TEND_E_PAYLOAD_TOO_LARGE") return 400;
  return 500;
}

/**
 * Wraps an admin handler: a TendError it throws answers with its code and the status that code
 * means (400 for bad input, 403, 404, 409; 503 with a Retry-After header when the database is
 * unreachable or timed out); anything else stays a 500 (logged by the router).
 *
 * @example
 * ```ts
 * router.get("/api/queues", api(async (_req, res) => sendJson(res, 200, await store.jobs.stats())));
 * ```
 */
export function api(
  fn: (
    req: IncomingMessage,
    res: ServerResponse,
    params: RouteParams,
    context: RouteContext,
  ) => Promise<void>,
): RouteHandler {
  return async (req, res, params, context) => {
    try {
      await fn(req, res, params, context);
    } catch (err) {
      if (isTendError(err) && !res.headersSent) {
        const status = statusOf(err.code);
        if (status === 503) res.setHeader("retry-after", String(RETRY_AFTER_SECONDS));
        if (status !== 500) return sendError(res, status, err.code, err.message);
      }
      throw err;
    }
  };
}
