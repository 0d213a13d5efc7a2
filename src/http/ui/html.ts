/**
 * Safe HTML building for the dashboard: every interpolated value is escaped unless it is HTML
 * built by `html` itself, so a payload holding `<script>` renders as text.
 */

/** HTML that is already safe (built by {@link html}). */
export class SafeHtml {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

/**
 * Pure: text with `& < > " '` replaced by entities, safe in element content and quoted attributes.
 *
 * @example
 * ```ts
 * escapeHtml('<script>alert("x")</script>'); // "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
 * ```
 */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function part(value: unknown): string {
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(part).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(value);
}

/**
 * A tagged template: the literal parts are trusted, every `${value}` is escaped (arrays are
 * joined, null/undefined/false render nothing, SafeHtml is kept).
 *
 * @example
 * ```ts
 * html`<td>${job.kind}</td>`; // SafeHtml with the kind escaped
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += part(values[i]) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}
