/** U+0000, or a UTF-16 surrogate without its pair. */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what this finds
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Pure: `text` with every character that a database column cannot hold written as an escape
 * (`\u0000`, `\ud800`): U+0000, which PostgreSQL refuses in text and jsonb, and lone UTF-16
 * surrogates, which are not Unicode text. Used for text tend records as it is given (error
 * messages and stacks), so that a failure can always be recorded. Text without them is returned
 * as it is, after two cheap checks.
 *
 * @example
 * ```ts
 * storableText("bad \u0000 byte"); // "bad \\u0000 byte"
 * ```
 */
export function storableText(text: string): string {
  if (!text.includes("\u0000") && text.isWellFormed()) return text;
  return text.replace(UNSTORABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A `\u0000` or lone-surrogate escape in JSON text whose backslash is not itself escaped. */
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(0000|d[89a-f][0-9a-f]{2})/gi;

/**
 * Pure: a JSON value whose strings hold no U+0000 and no lone surrogate: those are written as
 * the text of their escape (`"\u0000"` becomes the six characters `\u0000`), which any database
 * can store. For records tend keeps as they were reported (a converger's changes), so that one bad
 * string can never keep a record, or the records written with it, from being stored. A value
 * without them is returned as it is, after one JSON encoding.
 *
 * @example
 * ```ts
 * storableValue({ note: "a\u0000b" }); // { note: "a\\u0000b" }
 * ```
 */
export function storableValue(value: unknown): unknown {
  const text = JSON.stringify(value);
  // JSON.stringify writes U+0000 and lone surrogates as \u escapes, and nothing else of that range.
  if (text === undefined || !text.includes("\\u")) return value;
  const fixed = text.replace(UNSTORABLE_ESCAPE, "$1\\\\u$2");
  return fixed === text ? value : (JSON.parse(fixed) as unknown);
}
