/**
 * The rule for what a job may carry, checked once by the jobs layer for both drivers: a payload or
 * a result is a JSON value that both databases store exactly as given and give back equal. That
 * is: objects (plain, or class instances: their own enumerable properties), arrays, strings,
 * finite numbers, booleans and null, plus any object with a `toJSON` method (its result is checked
 * in its place; a Date becomes its ISO string). A property whose value is `undefined` is left out,
 * as JSON does. Refused, with the path of the bad value:
 *
 * - values JSON would change or drop: NaN and ±Infinity (stored as null), `undefined`, functions
 *   and symbols in arrays (null) or as property values (dropped), an invalid Date (null), a Map,
 *   Set, WeakMap, WeakSet, RegExp, Error, Promise, ArrayBuffer, DataView or typed array (`{}` or
 *   an object of indexes);
 * - values JSON cannot encode: a BigInt, a cycle, nesting deeper than {@link MAX_DEPTH};
 * - strings (values or property names) that PostgreSQL cannot store in jsonb: U+0000, and lone
 *   UTF-16 surrogates (not Unicode text; both drivers refuse them, so that they behave the same).
 *
 * Cost: JSON.stringify once, plus one walk over the value that looks at types only; strings are
 * looked at only when the JSON text holds a `\u` escape (JSON.stringify writes U+0000 and lone
 * surrogates as `\u` escapes), so an ordinary value pays one substring search for them.
 */

/** How deep a payload or result may nest. */
export const MAX_DEPTH = 500;

/** Where a bad value is and why it is refused. */
export interface JsonProblem {
  /** Path of the value from the root, e.g. `payload.items[3]`. */
  path: string;
  /** What the value is and what JSON would make of it. */
  why: string;
  /** What to do instead. */
  fix: string;
}

/** Objects that JSON turns into `{}` (or an object of indexes), by their `Object.prototype.toString` tag. */
const LOSSY_OBJECTS: ReadonlyMap<string, string> = new Map([
  ["Map", "{} (convert it, e.g. Object.fromEntries(map) or [...map])"],
  ["Set", "{} (convert it, e.g. [...set])"],
  ["WeakMap", "{}"],
  ["WeakSet", "{}"],
  ["RegExp", "{} (pass its source text)"],
  ["Error", "{} (pass its message)"],
  ["Promise", "{} (await it first)"],
  ["ArrayBuffer", "{} (encode the bytes, e.g. as base64)"],
  ["SharedArrayBuffer", "{} (encode the bytes, e.g. as base64)"],
  ["DataView", "{} (encode the bytes, e.g. as base64)"],
]);

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** One step of a path, as a JavaScript accessor. */
function step(key: string | number): string {
  if (typeof key === "number") return `[${key}]`;
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** A problem found during a walk: its path is built from the leaf up, only when there is one. */
export class Found {
  readonly steps: Array<string | number> = [];
  readonly why: string;
  readonly fix: string;
  constructor(why: string, fix: string) {
    this.why = why;
    this.fix = fix;
  }
}

/** Why a string cannot be stored, or null. */
function stringProblem(s: string, what: string): Found | null {
  if (s.includes("\u0000")) {
    return new Found(
      `${what} contains U+0000 (a NUL character), which PostgreSQL cannot store`,
      "remove it, or encode binary data (e.g. as base64)",
    );
  }
  if (!s.isWellFormed()) {
    return new Found(
      `${what} contains a lone UTF-16 surrogate, which is not Unicode text and cannot be stored`,
      "repair the text (e.g. with String.prototype.toWellFormed()) or encode the data (e.g. as base64)",
    );
  }
  return null;
}

/** Why a value that is not an object cannot be stored, or null (`inArray`: JSON makes it null there). */
function scalarProblem(value: unknown, inArray: boolean): Found | null {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value)
        ? null
        : new Found(`is ${value}, which JSON stores as null`, "pass null or a finite number");
    case "bigint":
      return new Found("is a BigInt, which JSON cannot encode", "pass it as a string (String(n))");
    case "undefined":
      return new Found(
        inArray ? "is undefined in an array, which JSON stores as null" : "is undefined",
        "pass null",
      );
    case "function":
      return new Found(
        `is a function, which JSON ${inArray ? "stores as null" : "drops"}`,
        "pass data, not code",
      );
    case "symbol":
      return new Found(`is a symbol, which JSON ${inArray ? "stores as null" : "drops"}`, "pass a string");
    default:
      return null;
  }
}

/**
 * Walks `value`; returns the first problem, or null. `strings`: also check every string (and
 * property name). `ancestors`: the objects above `value`, for finding a cycle (null: none can
 * occur, JSON.stringify already succeeded).
 */
function walk(
  value: unknown,
  key: string | number,
  depth: number,
  strings: boolean,
  ancestors: object[] | null,
  inArray: boolean,
): Found | null {
  if (typeof value !== "object") {
    if (typeof value === "string") return strings ? stringProblem(value, "the text") : null;
    if (typeof value === "boolean") return null;
    return scalarProblem(value, inArray);
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH) {
    return new Found(
      `is nested more than ${MAX_DEPTH} levels deep`,
      "flatten the structure or store it elsewhere and pass a reference",
    );
  }
  if (ancestors !== null) {
    if (ancestors.includes(value)) {
      return new Found("refers back to an object that contains it (a cycle)", "pass a tree, not a graph");
    }
    ancestors.push(value);
  }
  try {
    return walkObject(value, key, depth, strings, ancestors);
  } finally {
    ancestors?.pop();
  }
}

function walkObject(
  value: object,
  key: string | number,
  depth: number,
  strings: boolean,
  ancestors: object[] | null,
): Found | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], i, depth + 1, strings, ancestors, true);
      if (found !== null) {
        found.steps.push(i);
        return found;
      }
    }
    return null;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    if (value instanceof Date) {
      return Number.isNaN(value.getTime())
        ? new Found("is an invalid Date, which JSON stores as null", "pass a valid Date or null")
        : null;
    }
    // As JSON.stringify: the value's own JSON form stands in for it (its toJSON is not called again).
    const replaced: unknown = toJSON.call(value, typeof key === "number" ? String(key) : key);
    if (replaced !== null && typeof replaced === "object" && !Array.isArray(replaced)) {
      return objectProblem(replaced, depth, strings, ancestors);
    }
    return walk(replaced, key, depth, strings, ancestors, false);
  }
  return objectProblem(value, depth, strings, ancestors);
}

/** Why a non-array object without a toJSON of its own (or a toJSON's result) cannot be stored, or null. */
function objectProblem(
  value: object,
  depth: number,
  strings: boolean,
  ancestors: object[] | null,
): Found | null {
  const proto: unknown = Object.getPrototypeOf(value);
  const plain = proto === Object.prototype;
  if (!plain && proto !== null) {
    const tag = Object.prototype.toString.call(value).slice(8, -1);
    const lossy = LOSSY_OBJECTS.get(tag);
    if (lossy !== undefined)
      return new Found(`is a ${tag}, which JSON stores as ${lossy.split(" (")[0]}`, fixOf(lossy));
    if (ArrayBuffer.isView(value)) {
      return new Found(
        `is a ${tag}, which JSON stores as an object of indexes`,
        "encode the bytes (e.g. as base64), or pass Array.from(bytes)",
      );
    }
  }
  return walkProperties(value, plain, depth, strings, ancestors);
}

function fixOf(lossy: string): string {
  const open = lossy.indexOf("(");
  return open === -1 ? "convert it to plain data" : lossy.slice(open + 1, -1);
}

function walkProperties(
  value: object,
  plain: boolean,
  depth: number,
  strings: boolean,
  ancestors: object[] | null,
): Found | null {
  const record = value as Record<string, unknown>;
  if (!plain) {
    for (const k of Object.keys(record)) {
      const found = property(record, k, depth, strings, ancestors);
      if (found !== null) return found;
    }
    return null;
  }
  // A plain object inherits nothing enumerable, so for...in (faster than Object.keys) sees what JSON sees.
  for (const k in record) {
    const found = property(record, k, depth, strings, ancestors);
    if (found !== null) return found;
  }
  return null;
}

function property(
  record: Record<string, unknown>,
  k: string,
  depth: number,
  strings: boolean,
  ancestors: object[] | null,
): Found | null {
  const item = record[k];
  // Left out by JSON, and read back as undefined: nothing is lost.
  if (item === undefined) return null;
  const found =
    (strings ? stringProblem(k, "the property name") : null) ??
    walk(item, k, depth + 1, strings, ancestors, false);
  found?.steps.push(k);
  return found;
}

/**
 * The problem a walk found, with its path from `root` (built only here, on an error).
 *
 * @example
 * ```ts
 * const r = encodeJsonValue([Number.NaN]);
 * if (!r.ok) located(r.problem, "payload").path; // "payload[0]"
 * ```
 */
export function located(found: Found, root: string): JsonProblem {
  let path = root;
  for (let i = found.steps.length - 1; i >= 0; i--) path += step(found.steps[i]!);
  return { path, why: found.why, fix: found.fix };
}

/**
 * Encodes a payload or result as JSON text, or says what in it cannot be stored faithfully (see
 * the rule at the top of this file); {@link located} gives the problem's path.
 *
 * @example
 * ```ts
 * const r = encodeJsonValue({ items: [1, Number.NaN] });
 * if (!r.ok) located(r.problem, "payload"); // { path: "payload.items[1]", why: "is NaN, which JSON stores as null", ... }
 * ```
 */
export function encodeJsonValue(value: unknown): { ok: true; text: string } | { ok: false; problem: Found } {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    // A cycle, a BigInt or a throwing toJSON: walk again, carefully, to say where.
    let found: Found | null;
    try {
      found = walk(value, "", 0, true, [], false);
    } catch (walkErr) {
      found = new Found(`cannot be encoded: ${(walkErr as Error).message}`, "pass plain data");
    }
    found ??= new Found(`cannot be encoded as JSON: ${(err as Error).message}`, "pass plain data");
    return { ok: false, problem: found };
  }
  let found: Found | null;
  try {
    found =
      text === undefined
        ? (scalarProblem(value, false) ?? new Found("cannot be encoded as JSON", "pass plain data"))
        : (walk(value, "", 0, false, null, false) ??
          // JSON.stringify writes U+0000 and lone surrogates as \u escapes: only then look at strings.
          (text.includes("\\u") ? walk(value, "", 0, true, null, false) : null));
  } catch (walkErr) {
    // A Proxy whose traps JSON.stringify did not call (getPrototypeOf) throws when walked.
    const why = walkErr instanceof Error ? walkErr.message : "a trap threw";
    found = new Found(`cannot be read: ${why}`, "pass plain data");
  }
  if (found !== null) return { ok: false, problem: found };
  return { ok: true, text: text! };
}
