import { checkDate, invalidArgument } from "../errors/index.ts";
import type { ListFilter } from "./job-model.ts";

/** The longest text a jobs list searches for. */
export const MAX_SEARCH_TEXT = 200;

/**
 * Checks a list filter's search text (1 to {@link MAX_SEARCH_TEXT} characters) and returns it
 * lower-cased (the search is case-insensitive for ASCII letters on both drivers); throws
 * TEND_E_INVALID_STORE_ARGUMENT naming `name`.
 *
 * @example
 * ```ts
 * searchText("text", "Timeout"); // "timeout"
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
  return value.replace(/[A-Z]/g, (c) => c.toLowerCase());
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
