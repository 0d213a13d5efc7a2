/**
 * Characters a terminal does not show as themselves: C0 controls, DEL and C1 controls (`\p{Cc}`),
 * the line and paragraph separators, and the bidirectional controls that reorder the rest of a line.
 */
const INVISIBLE = /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Pure: `text` with every control character shown as a visible escape, so that it stays on one
 * line and moves nothing around it: `\n`, `\r` and `\t` as those two characters, other C0 and C1
 * controls, DEL, U+2028, U+2029 and the bidirectional controls as `\u` and four hex digits. For
 * what the CLI prints for people (tables, one-line listings); `--json` prints values as stored.
 *
 * @example
 * ```ts
 * visibleText("line 1\r\nline 2\tend"); // "line 1\\r\\nline 2\\tend"
 * visibleText("\u001b[31mred"); // "\\u001b[31mred"
 * ```
 */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
