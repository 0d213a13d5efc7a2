import { html, type SafeHtml } from "./html.ts";

/** One line of a chart: its values (oldest first), a CSS class for its colour, and its name. */
export interface ChartLine {
  values: readonly number[];
  className: string;
  label: string;
}

/** Pure: the `points` of a polyline drawing `values` in a `width` × `height` box scaled to `max`. */
export function polylinePoints(
  values: readonly number[],
  width: number,
  height: number,
  max: number,
): string {
  const n = values.length;
  const step = n > 1 ? width / (n - 1) : 0;
  return values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - (max > 0 ? (v / max) * height : 0)).toFixed(1)}`)
    .join(" ");
}

/**
 * Pure: a small line chart as inline SVG (no script, no style attribute: colours come from the
 * classes in style.css), one shared scale from 0 to the largest value, with a text alternative.
 *
 * @example
 * ```ts
 * lineChart([{ values: [1, 3, 2], className: "c-enq", label: "enqueued" }], "mail: per minute");
 * ```
 */
export function lineChart(lines: readonly ChartLine[], title: string, width = 240, height = 48): SafeHtml {
  const max = Math.max(0, ...lines.flatMap((l) => l.values));
  const summary = lines.map(
    (l) => `${l.label}: last ${l.values.at(-1) ?? 0}, max ${Math.max(0, ...l.values)}`,
  );
  return html`<svg
    class="chart"
    viewBox="-1 -1 ${width + 2} ${height + 2}"
    width="${width}"
    height="${height}"
    role="img"
    aria-label="${title}. ${summary.join("; ")}"
  >
    <title>${title} (max ${max})</title>
    ${lines.map(
      (l) =>
        html`<polyline
          class="${l.className}"
          fill="none"
          points="${polylinePoints(l.values, width, height, max)}"
        />`,
    )}
  </svg>`;
}
