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

/** An item `find` returned that is not a key: it is skipped (that key fails alone), with why. */
export interface InvalidFound {
  /** Its position in what `find` returned. */
  index: number;
  /** The item as `find` returned it. */
  value: unknown;
  /** The key as text when it was one (too long, or holding U+0000 or a lone surrogate), else null. */
  key: string | null;
  /** TEND_E_CONVERGER_INVALID_KEYS naming the converger, the item and what was expected. */
  error: TendError;
}

/** What `find` returned, normalised: the keys to converge, and the items that are not keys. */
export interface NormalizedFound {
  found: FoundKey[];
  invalid: InvalidFound[];
}

/** The longest key (and version) tend accepts, in UTF-16 code units (JavaScript string length). */
export const MAX_KEY_LENGTH = 512;

/**
 * Pure: why `text` cannot be a converger key (or version), or null when it can. A key is 1 to
 * {@link MAX_KEY_LENGTH} characters of well-formed text without U+0000: what both databases can
 * store (PostgreSQL refuses U+0000 and lone surrogates in text) and send in a wake-up.
 *
 * @example
 * ```ts
 * keyProblem("42"); // null
 * keyProblem("x".repeat(600)); // "it is 600 characters long; the limit is 512"
 * keyProblem("a\u0000b"); // "it contains U+0000"
 * ```
 */
export function keyProblem(text: string): string | null {
  if (text.length === 0) return "it is empty";
  if (text.length > MAX_KEY_LENGTH)
    return `it is ${text.length} characters long; the limit is ${MAX_KEY_LENGTH}`;
  if (text.includes("\u0000")) return "it contains U+0000";
  if (!text.isWellFormed()) return "it contains a lone UTF-16 surrogate";
  return null;
}

type KeyText = { text: string; problem: string | null } | null;

/** A key-like value as text (with why it cannot be a key, if so), or null for a non-key type. */
function keyText(value: unknown): KeyText {
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number") {
    if (!Number.isFinite(value)) return null;
    text = String(value);
  } else if (typeof value === "bigint") text = value.toString();
  else return null;
  return { text, problem: keyProblem(text) };
}

const EXPECTED =
  "expected a key (a string of 1-512 characters without U+0000 or lone surrogates, a finite number, a bigint, or { key, version })";

/**
 * Pure: normalises what `find` returned into unique keys (strings) with versions. Accepts an
 * array (or any iterable) of strings (1-512 characters, no U+0000, no lone surrogate), finite
 * numbers, bigints, `{ key, version? }` objects, or one-column rows (`{ id: 42 }`, so `find` may
 * return the rows of `SELECT id FROM ...` as they are); a key found twice keeps its first entry.
 * An item that is not a valid key (or whose version is not valid) is returned in `invalid` with
 * its TEND_E_CONVERGER_INVALID_KEYS error: that one item fails, the others go on. Throws
 * `TEND_E_CONVERGER_INVALID_KEYS` only when `found` is not an iterable at all.
 *
 * @example
 * ```ts
 * normalizeFound("accounts", [1, "2", { key: 3, version: "2026-01-01" }, "x".repeat(600)]);
 * // { found: [{ key: "1", version: null }, { key: "2", version: null }, { key: "3", version: "2026-01-01" }],
 * //   invalid: [{ index: 3, key: "xxx...", value: "xxx...", error: TendError }] }
 * ```
 */
export function normalizeFound(converger: string, found: unknown): NormalizedFound {
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
  const invalid: InvalidFound[] = [];
  const seen = new Set<string>();
  let index = 0;
  for (const item of found as Iterable<unknown>) {
    let key: KeyText;
    let problem: string | null = null;
    let version: string | null = null;
    if (item !== null && typeof item === "object" && "key" in item) {
      const record = item as { key: unknown; version?: unknown };
      key = keyText(record.key);
      if (record.version !== undefined && record.version !== null) {
        const v: KeyText =
          record.version instanceof Date
            ? Number.isNaN(record.version.getTime())
              ? null
              : { text: record.version.toISOString(), problem: null }
            : keyText(record.version);
        if (v === null) problem = "its version is not a string, finite number, bigint or valid Date";
        else if (v.problem !== null) problem = `its version cannot be stored: ${v.problem}`;
        else version = v.text;
      }
    } else if (item !== null && typeof item === "object" && !Array.isArray(item)) {
      // A one-column row, as `ctx.sql("SELECT id FROM ...")` returns it.
      const values = Object.values(item as Record<string, unknown>);
      key = values.length === 1 ? keyText(values[0]) : null;
    } else {
      key = keyText(item);
    }
    problem = key === null ? "it is not a key" : (key.problem ?? problem);
    if (key === null || problem !== null) {
      invalid.push({
        index,
        value: item,
        key: key?.text ?? null,
        error: new TendError(
          "TEND_E_CONVERGER_INVALID_KEYS",
          `Converger "${converger}": find() returned ${describeValue(item)} at index ${index}, which is skipped: ${problem}; ${EXPECTED}.`,
          { details: { converger, index, value: item, reason: problem } },
        ),
      });
    } else if (!seen.has(key.text)) {
      seen.add(key.text);
      out.push({ key: key.text, version });
    }
    index++;
  }
  return { found: out, invalid };
}
