/**
 * Shared benchmark reporting: statistics, the side-by-side table, ratios, and the `--json` line.
 * Every bench/<part>.ts uses this so that all benchmarks print the same way.
 */

/** One measured figure. */
export interface Row {
  system: string;
  metric: string;
  value: number;
  unit: string;
}

/** Command-line flags every benchmark accepts. */
export interface BenchFlags {
  /** `--smoke`: a tiny, fast run for CI, so the benchmark does not rot. */
  smoke: boolean;
  /** `--json`: print one JSON object on the last line. */
  json: boolean;
}

export function parseFlags(argv: readonly string[] = process.argv.slice(2)): BenchFlags {
  return { smoke: argv.includes("--smoke"), json: argv.includes("--json") };
}

/** The q-quantile (0..1) of values, by linear interpolation; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Renders rows as a table with one column per system. */
export function renderRows(rows: readonly Row[]): string {
  const systems = [...new Set(rows.map((r) => r.system))];
  const metrics = [...new Set(rows.map((r) => `${r.metric} (${r.unit})`))];
  const cell = (metric: string, system: string): string => {
    const row = rows.find((r) => r.system === system && `${r.metric} (${r.unit})` === metric);
    return row === undefined ? "-" : fmt(row.value);
  };
  const header = ["metric", ...systems];
  const body = metrics.map((m) => [m, ...systems.map((s) => cell(m, s))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** A titled part of a benchmark's rows, printed as its own table. */
export interface Section {
  title: string;
  rows: readonly Row[];
}

/**
 * Prints the table (or one table per section), the ratios and notes for people, then (with
 * `--json`) the JSON object of all rows as the last line: `{"bench", "rows", "ratios"}`.
 */
export function report(
  bench: string,
  rows: readonly Row[],
  ratios: Record<string, number>,
  flags: BenchFlags,
  notes: readonly string[] = [],
  sections: readonly Section[] = [],
): void {
  const tables =
    sections.length === 0
      ? [renderRows(rows)]
      : sections.filter((s) => s.rows.length > 0).map((s) => `${s.title}\n${renderRows(s.rows)}\n`);
  const out: string[] = [
    `\n${bench}${flags.smoke ? " (smoke run: tiny sizes, figures not meaningful)" : ""}`,
    ...tables,
    "",
    "ratios:",
  ];
  for (const [name, value] of Object.entries(ratios)) out.push(`  ${name}: ${fmt(value)}`);
  for (const note of notes) out.push(`note: ${note}`);
  process.stdout.write(`${out.join("\n")}\n`);
  if (flags.json) process.stdout.write(`${JSON.stringify({ bench, rows, ratios })}\n`);
}
