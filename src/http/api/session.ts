import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The name of the dashboard's session cookie. */
export const SESSION_COOKIE = "tend_admin";

/** How long a login lasts (12 hours). */
export const SESSION_TTL_MS = 12 * 3_600_000;

function mac(adminToken: string, expiresAt: number): string {
  return createHmac("sha256", adminToken).update(`tend-session:${expiresAt}`).digest("base64url");
}

/**
 * Pure: a session value for a login at `now`: its expiry and an HMAC of it keyed by the admin
 * token. Nothing is stored on the server, the token is not in the cookie, and changing the token
 * ends every session.
 *
 * @example
 * ```ts
 * sessionValue("s3cret-token-of-the-ops-team", Date.now()); // "1767225600000.Xk3..."
 * ```
 */
export function sessionValue(adminToken: string, now: number): string {
  const expiresAt = now + SESSION_TTL_MS;
  return `${expiresAt}.${mac(adminToken, expiresAt)}`;
}

/**
 * Pure: whether a session value was made with this admin token and has not expired (the MAC is
 * compared in constant time).
 *
 * @example
 * ```ts
 * validSession(sessionValue(token, now), token, now + 1000); // true
 * ```
 */
export function validSession(value: string | undefined, adminToken: string, now: number): boolean {
  const m = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value ?? "");
  if (m === null) return false;
  const expiresAt = Number(m[1]);
  if (expiresAt <= now) return false;
  const given = Buffer.from(m[2]!);
  const wanted = Buffer.from(mac(adminToken, expiresAt));
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * Pure: one cookie's value from a `Cookie` header, or undefined.
 *
 * @example
 * ```ts
 * cookieOf("a=1; tend_admin=xyz", "tend_admin"); // "xyz"
 * ```
 */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Pure: whether a request comes from a page of this server: its `Origin` header names the host
 * the request was sent to, or one of `allowedHosts` (`http.allowedHosts`: the public name of a
 * proxy that rewrites `Host`, say to `localhost`; any port, http or https). Browsers send Origin
 * with every POST and DELETE; a request without one is not trusted with the cookie (scripts use
 * the Bearer header). Any other origin is refused (CSRF).
 *
 * @example
 * ```ts
 * sameOrigin({ origin: "http://127.0.0.1:9470", host: "127.0.0.1:9470" }); // true
 * sameOrigin({ origin: "https://tend.example.com", host: "localhost" }, ["tend.example.com"]); // true
 * sameOrigin({ origin: "https://evil.example", host: "localhost" }, ["tend.example.com"]); // false
 * ```
 */
export function sameOrigin(
  headers: IncomingMessage["headers"],
  allowedHosts: readonly string[] = [],
): boolean {
  const origin = headers.origin;
  if (origin === undefined) return false;
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") return false;
    return (
      (headers.host !== undefined && url.host === headers.host) ||
      allowedHosts.includes(url.hostname.toLowerCase())
    );
  } catch {
    return false;
  }
}

/** Whether a request carries a valid session cookie (whatever its origin). */
export function hasSession(req: IncomingMessage, adminToken: string | null, now = Date.now()): boolean {
  return adminToken !== null && validSession(cookieOf(req.headers.cookie, SESSION_COOKIE), adminToken, now);
}
