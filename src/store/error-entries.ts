/**
 * Reading a job's stored error entries for display, field by field, so that one entry a corrupted
 * row holds (not an object, no text message) is shown as malformed and the rest as they are.
 */

/** One stored error entry of a job, read as the CLI and the dashboard show it (see errorEntry). */
export interface ErrorEntry {
  attempt: string;
  at: string;
  code: string | null;
  message: string;
  stack: string | null;
  /** The entry is not an object with a text `message` (a corrupted row): `message` says so. */
  malformed: boolean;
}

/** Pure: a stored value as at most 200 characters of JSON. */
function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Pure: one entry of a job's errors, read field by field: an entry that is not an object with a
 * text `message` is malformed (its message says so and shows the entry), and a field of the
 * wrong type reads as unknown (`?` for the attempt, `-` for the time, none for code and stack).
 *
 * @example
 * ```ts
 * errorEntry({ attempt: 1 }).message; // '(malformed error entry: {"attempt":1})'
 * ```
 */
export function errorEntry(entry: unknown): ErrorEntry {
  const e: Record<string, unknown> =
    typeof entry === "object" && entry !== null && !Array.isArray(entry)
      ? (entry as Record<string, unknown>)
      : {};
  const malformed = typeof e["message"] !== "string";
  return {
    attempt: typeof e["attempt"] === "number" ? String(e["attempt"]) : "?",
    at: typeof e["at"] === "string" ? e["at"] : "-",
    code: typeof e["code"] === "string" && e["code"] !== "" ? e["code"] : null,
    message: malformed ? `(malformed error entry: ${preview(entry)})` : (e["message"] as string),
    stack: typeof e["stack"] === "string" ? e["stack"] : null,
    malformed,
  };
}

/**
 * Pure: the entries of a job's errors (none when the stored value is not a list).
 *
 * @example
 * ```ts
 * errorEntries([null]).map((e) => e.message); // ["(malformed error entry: null)"]
 * ```
 */
export function errorEntries(errors: unknown): ErrorEntry[] {
  return Array.isArray(errors) ? (errors as unknown[]).map(errorEntry) : [];
}

/**
 * Pure: the `last error` of a jobs list (the CLI's column, the dashboard's cell): the last entry's message cut to `max` characters,
 * `(malformed error entry)` for a malformed one, or "" for none.
 *
 * @example
 * ```ts
 * lastError([{ attempt: 1 }], 80); // "(malformed error entry)"
 * ```
 */
export function lastError(errors: unknown, max: number): string {
  if (!Array.isArray(errors) || errors.length === 0) return "";
  const last = errorEntry(errors.at(-1));
  return last.malformed ? "(malformed error entry)" : last.message.slice(0, max);
}
