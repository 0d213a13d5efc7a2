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
