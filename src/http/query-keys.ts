import { TendError } from "../errors/index.ts";

/**
 * Pure: the query parameters of `url`, checked against the keys a route accepts: a key it does
 * not accept (a typo such as `status` for `state` would otherwise be ignored and widen the
 * answer) or a key given twice (which value wins would be a guess) throws
 * TEND_E_ADMIN_BAD_REQUEST naming the key, its value and the keys accepted. Empty values are
 * kept (routes read them as absent).
 *
 * @example
 * ```ts
 * checkedQuery("/api/jobs?state=discarded", ["state", "queue"]); // URLSearchParams { state: "discarded" }
 * checkedQuery("/api/jobs?status=discarded", ["state", "queue"]); // throws: Unknown query parameter "status"...
 * ```
 */
export function checkedQuery(url: string | undefined, accepted: readonly string[]): URLSearchParams {
  const text = url ?? "";
  const at = text.indexOf("?");
  const query = new URLSearchParams(at === -1 ? "" : text.slice(at + 1));
  const seen = new Set<string>();
  const takes =
    accepted.length === 0
      ? "it takes no query parameters"
      : `it takes ${accepted.map((k) => `"${k}"`).join(", ")}`;
  for (const [key, value] of query) {
    const shown = JSON.stringify(key.slice(0, 40));
    if (!accepted.includes(key))
      throw new TendError(
        "TEND_E_ADMIN_BAD_REQUEST",
        `Unknown query parameter ${shown} (value ${JSON.stringify(value.slice(0, 40))}): ${takes}.`,
        { details: { name: key.slice(0, 40), value: value.slice(0, 40), expected: [...accepted] } },
      );
    if (seen.has(key))
      throw new TendError(
        "TEND_E_ADMIN_BAD_REQUEST",
        `Query parameter ${shown} is given more than once: give it once (${takes}).`,
        {
          details: { name: key, value: query.getAll(key).map((v) => v.slice(0, 40)), expected: "one value" },
        },
      );
    seen.add(key);
  }
  return query;
}
