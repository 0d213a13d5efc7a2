import type { IncomingMessage, ServerResponse } from "node:http";
import { isTendError } from "../../errors/index.ts";
import { type RouteHandler, type RouteParams, sendError } from "../router.ts";

const NOT_FOUND = new Set([
  "TEND_E_ADMIN_NOT_FOUND",
  "TEND_E_CRON_NOT_FOUND",
  "TEND_E_INBOX_FAILED_FILE_NOT_FOUND",
  "TEND_E_JOB_NOT_FOUND",
]);

/** Pure: the HTTP status of a TendError code met by an admin request. */
export function statusOf(code: string): number {
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
 * means (400 for bad input, 403, 404, 409); anything else stays a 500 (logged by the router).
 *
 * @example
 * ```ts
 * router.get("/api/queues", api(async (_req, res) => sendJson(res, 200, await store.jobs.stats())));
 * ```
 */
export function api(
  fn: (req: IncomingMessage, res: ServerResponse, params: RouteParams) => Promise<void>,
): RouteHandler {
  return async (req, res, params) => {
    try {
      await fn(req, res, params);
    } catch (err) {
      if (isTendError(err)) {
        const status = statusOf(err.code);
        if (status !== 500) return sendError(res, status, err.code, err.message);
      }
      throw err;
    }
  };
}
