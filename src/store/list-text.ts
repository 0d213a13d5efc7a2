import { checkDate, invalidArgument } from "../errors/index.ts";
import type { ListFilter } from "./job-model.ts";

/** The longest text a jobs list searches for. */
export const MAX_SEARCH_TEXT = 200;

/**
 * Checks a list filter's search text (1 to {@link MAX_SEARCH_TEXT} characters) and returns it
 * lower-cased (the search is case-insensitive for ASCII letters on both drivers) and squeezed as
 * the searched JSON is (see {@link squeezeJsonSql}); throws TEND_E_INVALID_STORE_ARGUMENT naming
 * `name`.
 *
 * @example
 * ```ts
 * searchText("text", "Timeout"); // "timeout"
 * searchText("text", '"status": "Failed"'); // '"status":"failed"'
 * ```
 */
export function searchText(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_SEARCH_TEXT)
    throw invalidArgument(
      "TEND_E_INVALID_STORE_ARGUMENT",
      name,
      value,
      `text of 1 to ${MAX_SEARCH_TEXT} characters`,
    );
  return value
    .replace(/[A-Z]/g, (c) => c.toLowerCase())
    .replaceAll(": ", ":")
    .replaceAll(", ", ",");
}

/**
 * SQL (both drivers) of the JSON text `expr` as the jobs list searches it for the search text
 * `needle` (from {@link searchText}): every `": "` and `", "` made `":"` and `","`. PostgreSQL prints
 * a jsonb value with a space after each colon and comma, SQLite keeps the compact text tend stored:
 * squeezed alike, and the search text too, a search for `"status":"failed"` or `"status": "failed"`
 * matches on both. A search text without a colon or comma (a word) searches `expr` as it is, at no
 * cost per row.
 *
 * @example
 * ```ts
 * squeezeJsonSql("payload::text", '"to":"bob'); // "replace(replace(payload::text, ': ', ':'), ', ', ',')"
 * squeezeJsonSql("payload::text", "bob"); // "payload::text"
 * ```
 */
export function squeezeJsonSql(expr: string, needle: string): string {
  return /[:,]/.test(needle) ? `replace(replace(${expr}, ': ', ':'), ', ', ',')` : expr;
}

/** Checks a list filter's creation-time bounds (TEND_E_INVALID_STORE_ARGUMENT); returns them. */
export function createdRange(filter: ListFilter): { from?: Date; before?: Date } {
  return {
    ...(filter.createdFrom === undefined
      ? {}
      : { from: checkDate("TEND_E_INVALID_STORE_ARGUMENT", "createdFrom", filter.createdFrom) }),
    ...(filter.createdBefore === undefined
      ? {}
      : { before: checkDate("TEND_E_INVALID_STORE_ARGUMENT", "createdBefore", filter.createdBefore) }),
  };
}
