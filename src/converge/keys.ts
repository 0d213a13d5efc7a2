import { describeValue, TendError } from "../errors/index.ts";

/** What `find` may return for one target: its key, or its key with a version. */
export type Found =
  | string
  | number
  | bigint
  | { key: string | number | bigint; version?: string | number | bigint | Date | null }
  /** A one-column row such as `{ id: 42 }`. */
  | Readonly<Record<string, unknown>>;

/** A target found by `find`, normalised: the key as a string, and its version if `find` gave one. */
export interface FoundKey {
  key: string;
  version: string | null;
}

function keyText(value: unknown): string | null {
  if (typeof value === "string") return value.length > 0 && value.length <= 512 ? value : null;
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : null;
  if (typeof value === "bigint") return value.toString();
  return null;
}

/**
 * Pure: normalises what `find` returned into unique keys (strings) with versions. Accepts an
 * array (or any iterable) of strings (1-512 characters), finite numbers, bigints,
 * `{ key, version? }` objects, or one-column rows (`{ id: 42 }`, so `find` may return the rows of
 * `SELECT id FROM ...` as they are); a key found twice keeps its first entry. Throws
 * `TEND_E_CONVERGER_INVALID_KEYS` naming the first bad item.
 *
 * @example
 * ```ts
 * normalizeFound("accounts", [1, "2", { key: 3, version: "2026-01-01" }]);
 * // [{ key: "1", version: null }, { key: "2", version: null }, { key: "3", version: "2026-01-01" }]
 * ```
 */
export function normalizeFound(converger: string, found: unknown): FoundKey[] {
  if (
    found === null ||
    typeof found !== "object" ||
    !(Symbol.iterator in found) ||
    typeof found === "string"
  ) {
    throw new TendError(
      "TEND_E_CONVERGER_INVALID_KEYS",
      `Converger "${converger}": find() returned ${describeValue(found)}; expected an array of keys (strings, numbers, bigints or { key, version }).`,
      { details: { converger, value: found } },
    );
  }
  const out: FoundKey[] = [];
  const seen = new Set<string>();
  let index = 0;
  for (const item of found as Iterable<unknown>) {
    let key: string | null;
    let version: string | null = null;
    if (item !== null && typeof item === "object" && "key" in item) {
      const record = item as { key: unknown; version?: unknown };
      key = keyText(record.key);
      if (record.version !== undefined && record.version !== null) {
        version = record.version instanceof Date ? record.version.toISOString() : keyText(record.version);
        if (version === null) key = null;
      }
    } else if (item !== null && typeof item === "object" && !Array.isArray(item)) {
      // A one-column row, as `ctx.sql("SELECT id FROM ...")` returns it.
      const values = Object.values(item as Record<string, unknown>);
      key = values.length === 1 ? keyText(values[0]) : null;
    } else {
      key = keyText(item);
    }
    if (key === null) {
      throw new TendError(
        "TEND_E_CONVERGER_INVALID_KEYS",
        `Converger "${converger}": find() returned ${describeValue(item)} at index ${index}; expected a key (a non-empty string, a finite number, a bigint, or { key, version }).`,
        { details: { converger, index, value: item } },
      );
    }
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ key, version });
    }
    index++;
  }
  return out;
}
