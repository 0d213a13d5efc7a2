/** Pure formatting of times, durations and sizes for the dashboard's pages. */

/**
 * Pure: a time as `YYYY-MM-DD HH:MM:SSZ` (UTC), or `-` for none.
 *
 * @example
 * ```ts
 * utcTime(new Date("2026-01-01T10:00:03.100Z")); // "2026-01-01 10:00:03Z"
 * ```
 */
export function utcTime(d: Date | null | undefined): string {
  if (d === null || d === undefined || Number.isNaN(d.getTime())) return "-";
  return d
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/**
 * Pure: a duration in ms in one or two units (`850 ms`, `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`).
 *
 * @example
 * ```ts
 * duration(185_000); // "3 min 5 s"
 * ```
 */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/**
 * Pure: a byte count in B, KiB, MiB or GiB.
 *
 * @example
 * ```ts
 * bytes(52_428_800); // "50.0 MiB"
 * ```
 */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * Pure: a job's (or audit entry's) time as `YYYY-MM-DD HH:MM:SSZ` (UTC), `-` for none, or
 * `(invalid time)` for a stored value no Date holds (a corrupted row; see JobRecord).
 *
 * @example
 * ```ts
 * storedTime(new Date(Number.NaN)); // "(invalid time)"
 * ```
 */
export function storedTime(value: unknown): string {
  if (value === null || value === undefined) return "-";
  return value instanceof Date && !Number.isNaN(value.getTime()) ? utcTime(value) : "(invalid time)";
}

/** One stored error entry of a job as the dashboard shows it (see errorEntry). */
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
 * Pure: the jobs list's `last error` cell: the last entry's message cut to `max` characters,
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
