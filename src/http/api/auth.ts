import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { TendError } from "../../errors/index.ts";

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
 * Checks that a mutating request may act: a token is configured and the request carries it as
 * `Authorization: Bearer <token>` (compared in constant time). Returns the token's audit id;
 * throws TEND_E_ADMIN_READ_ONLY or TEND_E_ADMIN_FORBIDDEN (both answered 403).
 *
 * Only a header authorizes: browsers never add one on their own, so a page of another site
 * cannot make a logged-in browser act (no CSRF), and there is no cookie to steal.
 *
 * @example
 * ```ts
 * const who = authorize(req, settings.adminToken); // "3f5a..."
 * ```
 */
export function authorize(req: IncomingMessage, adminToken: string | null): string {
  if (adminToken === null) {
    throw new TendError(
      "TEND_E_ADMIN_READ_ONLY",
      "The admin API is read-only: this server has no http.adminToken configured, so it refuses every action.",
    );
  }
  const header = req.headers.authorization ?? "";
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  const given = createHash("sha256")
    .update(m?.[1] ?? "")
    .digest();
  const wanted = createHash("sha256").update(adminToken).digest();
  if (m === null || !timingSafeEqual(given, wanted)) {
    throw new TendError(
      "TEND_E_ADMIN_FORBIDDEN",
      m === null
        ? "This action needs the admin token: send it as `Authorization: Bearer <token>`."
        : "The bearer token is not this server's admin token.",
    );
  }
  return tokenId(adminToken);
}
