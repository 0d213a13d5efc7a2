import { displayWidth, padToWidth } from "./display-width.ts";
import { visibleText } from "./visible-text.ts";

/** Pure: the text of one cell: `-` for none, a Date as ISO 8601, control characters escaped. */
function cellText(c: unknown): string {
  return c === null || c === undefined ? "-" : visibleText(c instanceof Date ? c.toISOString() : String(c));
}

/**
 * Pure: rows as an aligned plain-text table (for people; use --json for machines), one line per
 * row: control characters in a cell are shown as escapes (see visibleText), and columns are
 * aligned by terminal columns (wide characters count 2, combining marks 0; see displayWidth).
 *
 * @example
 * ```ts
 * renderTable(["id", "error"], [[1, "no\nplan"]]); // "id  error\n--  --------\n1   no\\nplan"
 * ```
 */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<unknown>>): string {
  const head = headers.map(cellText);
  const cells = rows.map((row) => row.map(cellText));
  const widths = head.map((h, i) => Math.max(displayWidth(h), ...cells.map((r) => displayWidth(r[i] ?? ""))));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => padToWidth(c, widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}
