import {
  checkBoolean,
  checkInteger,
  checkObject,
  checkString,
  invalidArgument,
  isArrayValue,
  optionKeys,
  rejectUnknownKeys,
} from "../errors/index.ts";
import { type Duration, MAX_TIMER_MS, parseDuration } from "../lifecycle/index.ts";

/** Options of tend's HTTP server (`createApp({ http })`, `tend supervise --http`). */
export interface HttpOptions {
  /** TCP port; 0 picks a free one (read it back from `app.httpAddress`). */
  port: number;
  /** Address to bind (default `127.0.0.1`: reachable from this machine only). */
  host?: string;
  /** `/healthz` answers 503 once the event loop was blocked this long in the last seconds (default `"5s"`). */
  maxEventLoopDelay?: Duration;
  /**
   * Serve the admin API under `/api` and the dashboard under `/ui` (default false). Read-only
   * unless `adminToken` is set. An object turns it on with options. See docs/dashboard.md.
   */
  dashboard?: boolean | DashboardOptions;
  /**
   * The token that mutating admin requests (retry, cancel, delete, enqueue) must carry as
   * `Authorization: Bearer <token>`; at least 16 characters. Without it the API is read-only.
   */
  adminToken?: string;
  /**
   * Host names (without port) besides the loopback ones that requests may name in their `Host`
   * header while the server is bound to a loopback address (default none), e.g. the name of an
   * SSH tunnel's or a local proxy's. A loopback-bound server refuses other names (403
   * TEND_E_HTTP_HOST_NOT_ALLOWED), against DNS rebinding; a server bound elsewhere checks none.
   */
  allowedHosts?: readonly string[];
}

/** Options of the dashboard and admin API (`http: { dashboard: { ... } }`). */
export interface DashboardOptions {
  /**
   * Never render nor return jobs' payloads and results (default false): for deployments whose
   * payloads hold personal or secret data. Errors, kinds and queues are still shown.
   */
  hidePayloads?: boolean;
}

const DASHBOARD_KEYS = optionKeys<DashboardOptions>({ hidePayloads: true });

/** Checked HTTP options. */
export interface HttpSettings {
  port: number;
  host: string;
  maxEventLoopDelayMs: number;
  dashboard: boolean;
  /** Never render nor return payloads and results (see {@link DashboardOptions}). */
  hidePayloads: boolean;
  /** The admin token, or null (read-only). */
  adminToken: string | null;
  /** Host names a loopback-bound server answers besides the loopback ones (lower case). */
  allowedHosts: string[];
}

const HTTP_KEYS = optionKeys<HttpOptions>({
  port: true,
  host: true,
  maxEventLoopDelay: true,
  dashboard: true,
  adminToken: true,
  allowedHosts: true,
});

/**
 * Checks `http` options; throws TEND_E_INVALID_HTTP_OPTIONS (or TEND_E_UNKNOWN_OPTION).
 *
 * @example
 * ```ts
 * const settings = checkHttpOptions({ port: 9464 }); // { port: 9464, host: "127.0.0.1", ... }
 * ```
 */
export function checkHttpOptions(options: unknown): HttpSettings {
  checkObject("TEND_E_INVALID_HTTP_OPTIONS", "http options", options, "{ port, host? }");
  rejectUnknownKeys("http options", options, HTTP_KEYS, "TEND_E_INVALID_HTTP_OPTIONS");
  const o = options as Partial<HttpOptions>;
  const port = checkInteger("TEND_E_INVALID_HTTP_OPTIONS", "http.port", o.port, 0, 65_535);
  const host =
    o.host === undefined ? "127.0.0.1" : checkString("TEND_E_INVALID_HTTP_OPTIONS", "http.host", o.host);
  checkHostText(host, "http.host", host);
  const maxEventLoopDelayMs = parseDuration(o.maxEventLoopDelay ?? "5s", "http.maxEventLoopDelay", {
    code: "TEND_E_INVALID_HTTP_OPTIONS",
    positive: true,
    max: MAX_TIMER_MS,
  });
  let dashboard = false;
  let hidePayloads = false;
  if (o.dashboard !== null && typeof o.dashboard === "object" && !isArrayValue(o.dashboard)) {
    rejectUnknownKeys("http.dashboard options", o.dashboard, DASHBOARD_KEYS, "TEND_E_INVALID_HTTP_OPTIONS");
    dashboard = true;
    const hide = o.dashboard.hidePayloads;
    if (hide !== undefined)
      hidePayloads = checkBoolean("TEND_E_INVALID_HTTP_OPTIONS", "http.dashboard.hidePayloads", hide);
  } else if (o.dashboard !== undefined) {
    dashboard = checkBoolean("TEND_E_INVALID_HTTP_OPTIONS", "http.dashboard", o.dashboard);
  }
  let adminToken: string | null = null;
  if (o.adminToken !== undefined) {
    adminToken = checkString("TEND_E_INVALID_HTTP_OPTIONS", "http.adminToken", o.adminToken);
    if (adminToken.length < 16 || /\s/.test(adminToken))
      throw invalidArgument(
        "TEND_E_INVALID_HTTP_OPTIONS",
        "http.adminToken",
        "(hidden)",
        "at least 16 characters without spaces (e.g. from `openssl rand -hex 24`)",
      );
    if (!dashboard)
      throw invalidArgument(
        "TEND_E_INVALID_HTTP_OPTIONS",
        "http.adminToken",
        "(hidden)",
        "used only with `dashboard: true`",
      );
  }
  const allowedHosts: string[] = [];
  if (o.allowedHosts !== undefined) {
    if (!isArrayValue(o.allowedHosts))
      throw invalidArgument(
        "TEND_E_INVALID_HTTP_OPTIONS",
        "http.allowedHosts",
        o.allowedHosts,
        "an array of host names",
      );
    for (const name of o.allowedHosts as unknown[]) {
      if (typeof name !== "string" || !/^[A-Za-z0-9.-]{1,253}$/.test(name))
        throw invalidArgument(
          "TEND_E_INVALID_HTTP_OPTIONS",
          "http.allowedHosts",
          name,
          "host names without port (letters, digits, dots and hyphens)",
        );
      allowedHosts.push(name.toLowerCase());
    }
  }
  return { port, host, maxEventLoopDelayMs, dashboard, hidePayloads, adminToken, allowedHosts };
}

/**
 * Throws TEND_E_INVALID_HTTP_OPTIONS naming `name` (and showing `shown`) when `host` holds white
 * space, a slash, NUL or another control character: none is part of a host name or IP address,
 * and NUL would only fail later, when the server listens, as a raw TypeError.
 */
function checkHostText(host: string, name: string, shown: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\s/\u0000-\u001f\u007f]/.test(host))
    throw invalidArgument(
      "TEND_E_INVALID_HTTP_OPTIONS",
      name,
      shown,
      "a host name or IP address (no white space, slashes or control characters)",
    );
}

/**
 * Parses a listen address given on the command line: `9464`, `:9464`, `0.0.0.0:9464` or
 * `[::1]:9464`. Errors (TEND_E_INVALID_HTTP_OPTIONS: not that shape, a port above 65535, a host
 * with white space, slashes or control characters) name `flag`, the option the user typed:
 * `--http` (`tend supervise`, the default) or `--listen` (`tend dashboard`).
 *
 * @example
 * ```ts
 * parseHttpAddress("0.0.0.0:9464"); // { port: 9464, host: "0.0.0.0" }
 * parseHttpAddress("localhost:abc", "--listen"); // throws: Invalid --listen: got "localhost:abc", ...
 * ```
 */
export function parseHttpAddress(text: string, flag = "--http"): HttpOptions {
  checkString("TEND_E_INVALID_HTTP_OPTIONS", "the option name", flag);
  const expected = "PORT or HOST:PORT (e.g. 127.0.0.1:9464)";
  if (typeof text !== "string") throw invalidArgument("TEND_E_INVALID_HTTP_OPTIONS", flag, text, expected);
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(text.trim());
  if (m === null) throw invalidArgument("TEND_E_INVALID_HTTP_OPTIONS", flag, text, expected);
  const port = Number(m[2]);
  if (port > 65_535)
    throw invalidArgument("TEND_E_INVALID_HTTP_OPTIONS", flag, text, "a port from 0 to 65535");
  const host = m[1] === undefined || m[1] === "" ? undefined : m[1].replace(/^\[|\]$/g, "");
  if (host !== undefined) checkHostText(host, flag, text);
  return { port, ...(host === undefined ? {} : { host }) };
}
