import { TendError } from "../../errors/index.ts";

/**
 * The URL without its password, for logs and `store.url`.
 *
 * @example
 * ```ts
 * redactUrl("postgres://app:secret@db/app"); // "postgres://app:***@db/app"
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@");
  }
}

/** The `sslmode` values pg understands (libpq's, and pg's own `no-verify`). */
const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full", "no-verify"];

const URL_FORM = '"postgres://user:password@host:port/database"';

/**
 * Pure: checks a PostgreSQL URL the way pg will read it, so that a URL pg cannot use fails at once
 * with TEND_E_INVALID_DATABASE_URL naming the URL (without its password) and what was expected,
 * instead of a raw TypeError from the URL parser or a TLS error on connecting: it must parse as a
 * URL (a bracketed IPv6 host closed, no stray characters), its port (in the URL or `?port=`) must be
 * from 1 to 65535 and its `sslmode`, if any, one pg knows.
 *
 * @example
 * ```ts
 * checkPostgresUrl("postgres://app@db:5432/app?sslmode=require"); // fine
 * checkPostgresUrl("postgres://app@db:99999/app"); // throws TEND_E_INVALID_DATABASE_URL
 * ```
 */
export function checkPostgresUrl(url: string): void {
  const parsed = parseLikePg(url);
  if (parsed === null) {
    // The URL parser refuses a port past 65535 outright: say so rather than "does not parse".
    const port = /^[a-z]+:\/\/[^/?#]*:(\d+)(?=[/?#]|$)/i.exec(url)?.[1];
    if (port !== undefined && Number(port) > 65_535)
      throw badUrl(url, `a port from 1 to 65535 (got ${JSON.stringify(port)})`);
    throw badUrl(url, `a URL that parses, like ${URL_FORM}`);
  }
  const portParam = parsed.searchParams.get("port");
  const port = portParam ?? parsed.port;
  if (port !== "" && (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535)) {
    throw badUrl(url, `a port from 1 to 65535 (got ${JSON.stringify(port)})`);
  }
  const sslmode = parsed.searchParams.get("sslmode");
  if (sslmode !== null && !SSL_MODES.includes(sslmode)) {
    throw badUrl(url, `sslmode one of ${SSL_MODES.join(", ")} (got ${JSON.stringify(sslmode)})`);
  }
}

/**
 * The URL as pg-connection-string parses it (spaces and stray `%` encoded first, an empty host
 * allowed for a socket given by `?host=`), or null where it cannot. The parser's own error would
 * carry the URL with its password.
 */
function parseLikePg(url: string): URL | null {
  let text = url;
  try {
    if (/ |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(text)) text = encodeURI(text).replace(/%25(\d\d)/g, "%$1");
  } catch {
    return null;
  }
  try {
    return new URL(text, "postgres://base");
  } catch {
    try {
      return new URL(text.replace("@/", "@___DUMMY___/"), "postgres://base");
    } catch {
      return null;
    }
  }
}

function badUrl(url: string, expected: string): TendError {
  const shown = redactUrl(url);
  return new TendError(
    "TEND_E_INVALID_DATABASE_URL",
    `Invalid database URL: got ${JSON.stringify(shown)}, expected ${expected}.`,
    { details: { name: "database URL", value: shown, expected } },
  );
}
