/**
 * Error codes of the HTTP surface and observability (see docs/errors.md). Keys are the codes;
 * values their meaning.
 *
 * @example
 * ```ts
 * console.log(HTTP_CODES.TEND_E_HTTP_LISTEN);
 * ```
 */
export const HTTP_CODES = {
  TEND_E_INVALID_HTTP_OPTIONS:
    "An option of `http` (createApp) or `--http` (tend supervise) is invalid: a port outside 0-65535, an empty host, a bad duration.",
  TEND_E_HTTP_LISTEN:
    "The HTTP server could not listen on the address given (the port is in use, the host does not resolve or is not an address of this machine); the message names the address.",
  TEND_E_ADMIN_READ_ONLY:
    "A mutating admin API request (retry, cancel, delete, enqueue) reached a server without `http.adminToken`: the API is read-only; configure a token to allow actions.",
  TEND_E_ADMIN_FORBIDDEN:
    "A mutating admin API request carried no `Authorization: Bearer <token>` header, or a token that is not the configured `http.adminToken`; or a request authorised by the login cookie came from another origin than this server's own host or one of `http.allowedHosts` (cross-site request forgery is refused).",
  TEND_E_ADMIN_BAD_REQUEST:
    "An admin API request is malformed: a body that is not a JSON object or is too large, an unknown or repeated query parameter, an unknown filter value, a bad cursor or limit, a time range that ends before it begins; the message names the field.",
  TEND_E_ADMIN_NOT_FOUND: "An admin API request names a job that does not exist (or no longer exists).",
  TEND_E_ADMIN_CONFLICT:
    "An admin action cannot apply to the job in its current state (deleting a running job: cancel it first; retrying a job that has not ended (completed, discarded or cancelled); cancelling a job that already ended).",
  TEND_E_HTTP_HOST_NOT_ALLOWED:
    "A request to a server bound to a loopback address named another host in its Host header (answered 403): a page of another site may be reaching it through DNS rebinding. Open it as localhost or 127.0.0.1, or list the name in `http.allowedHosts`.",
  TEND_E_HTTP_NOT_FOUND:
    "An HTTP request asked for a path this server does not serve (answered 404, listing the paths).",
  TEND_E_HTTP_METHOD_NOT_ALLOWED:
    "An HTTP request used a method the path does not take (answered 405 with an Allow header).",
  TEND_E_HTTP_INTERNAL:
    "An HTTP handler failed unexpectedly (answered 500); the server's log has the error as `HTTP handler failed`.",
} as const satisfies Record<`TEND_E_${string}`, string>;
