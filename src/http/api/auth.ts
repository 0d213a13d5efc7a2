import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { TendError } from "../../errors/index.ts";
import { hasSession, sameOrigin } from "./session.ts";

/**
 * Pure: the name under which a token is recorded in the audit trail: the first 16 hex digits of
 * its SHA-256, so that entries say which token acted without storing it.
 *
 * @example
 * ```ts
 * tokenId("s3cret-token-of-the-ops-team"); // "3f5a..." (16 hex digits)
 * ```
 */
export function tokenId(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 16);
}

/**
 * Pure: whether `given` is the admin token, compared in constant time (on SHA-256 digests, so
 * that lengths leak nothing either).
 *
 * @example
 * ```ts
 * tokenMatches(formToken, settings.adminToken); // true or false
 * ```
 */
export function tokenMatches(given: string, adminToken: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(adminToken).digest();
  return timingSafeEqual(a, b);
}

/**
 * Checks that a mutating request may act: a token is configured and the request carries it as
 * `Authorization: Bearer <token>` (compared in constant time), or it carries the dashboard's
 * session cookie (see session.ts) AND comes from a page of this server (its `Origin` names this
 * host, or one of `allowedHosts`). Returns the token's audit id; throws TEND_E_ADMIN_READ_ONLY or
 * TEND_E_ADMIN_FORBIDDEN (both answered 403).
 *
 * CSRF: browsers never add the header on their own; the cookie is HttpOnly and SameSite=Strict
 * (never sent from another site's page), and a cookie-borne request must also show this server
 * as its Origin, so a page of another site cannot make a logged-in browser act.
 *
 * @example
 * ```ts
 * const who = authorize(req, settings.adminToken); // "3f5a..."
 * ```
 */
export function authorize(
  req: IncomingMessage,
  adminToken: string | null,
  allowedHosts: readonly string[] = [],
): string {
  if (adminToken === null) {
    throw new TendError(
      "TEND_E_ADMIN_READ_ONLY",
      "The admin API is read-only: this server has no http.adminToken configured, so it refuses every action.",
    );
  }
  const header = req.headers.authorization ?? "";
  // Another scheme (a proxy's `Basic` login in front of the dashboard) is not tend's: the
  // session cookie still counts then.
  const bearer = /^Bearer\b/i.test(header);
  if (!bearer && hasSession(req, adminToken)) {
    if (!sameOrigin(req.headers, allowedHosts))
      throw new TendError(
        "TEND_E_ADMIN_FORBIDDEN",
        "A request authorized by the dashboard's login cookie must come from a page of this server (its Origin header names neither this host nor one of http.allowedHosts).",
      );
    return tokenId(adminToken);
  }
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (m === null || !tokenMatches(m[1]!, adminToken)) {
    throw new TendError(
      "TEND_E_ADMIN_FORBIDDEN",
      m === null
        ? "This action needs the admin token: send it as `Authorization: Bearer <token>`."
        : "The bearer token is not this server's admin token.",
    );
  }
  return tokenId(adminToken);
}
