/**
 * The `Host` check of a server bound to a loopback address, against DNS rebinding: a web page of
 * another site, whose name its owner points at 127.0.0.1, would otherwise read this server's
 * answers (the browser sees one origin). A loopback-bound server answers only requests that name
 * it by a loopback name or address, or by a host listed in `http.allowedHosts`.
 */

/** Pure: whether `host` (a bind address or a host name, without port) is a loopback one. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return (
    h === "localhost" ||
    h.endsWith(".localhost") ||
    h === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
  );
}

/** Pure: the host name of a `Host` header (`[::1]:9464` → `::1`), lower-cased; "" when absent. */
export function hostName(header: string | undefined): string {
  if (header === undefined) return "";
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(1, h.indexOf("]") === -1 ? undefined : h.indexOf("]"));
  const colon = h.lastIndexOf(":");
  return colon === -1 ? h : h.slice(0, colon);
}

/**
 * Pure decision: whether a request with the `Host` header `header` may be answered by a server
 * bound to `boundHost`. A server bound to a non-loopback address (reachable from elsewhere by
 * whatever name) answers every request; a loopback-bound one only requests naming a loopback
 * host or one of `allowed` (exact names, lower case). A request without a Host header (HTTP/1.0,
 * a raw socket) comes from no browser page and is answered.
 *
 * @example
 * ```ts
 * hostAllowed("localhost:9464", "127.0.0.1", []); // true
 * hostAllowed("evil.example:9464", "127.0.0.1", []); // false
 * hostAllowed("evil.example:9464", "0.0.0.0", []); // true
 * ```
 */
export function hostAllowed(
  header: string | undefined,
  boundHost: string,
  allowed: readonly string[],
): boolean {
  if (!isLoopbackHost(boundHost)) return true;
  const name = hostName(header);
  return name === "" || isLoopbackHost(name) || allowed.includes(name);
}
