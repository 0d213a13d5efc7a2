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
} as const satisfies Record<`TEND_E_${string}`, string>;
