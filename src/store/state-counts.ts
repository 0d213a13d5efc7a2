/**
 * Jobs by queue and state over the whole table, for the dashboard's overview: exact on a small
 * table, estimated from evenly spread id windows on a large one (ids grow with time, so the
 * windows sample every age of the table; a count is the rows seen times the ids spanned over the
 * ids sampled, so gaps left by deleted jobs are accounted for). Never reads more than
 * `sampleRows` rows.
 */
import { checkInteger } from "../errors/index.ts";
import type { JobState } from "./job-model.ts";

/** One queue's jobs in one state. */
export interface StateCount {
  queue: string;
  state: JobState;
  /** Exact, or an estimate rounded to a whole number. */
  count: number;
}

/** The jobs by queue and state, and how they were counted. */
export interface StateCounts {
  /** True when every row was counted; false for an estimate from a sample. */
  exact: boolean;
  /** Rows read (the whole table when exact). */
  sampledRows: number;
  counts: StateCount[];
}

/** How many rows at most (default 20,000; 1,000 to 1,000,000). */
export interface StateCountOptions {
  sampleRows?: number;
}

/** Id windows a sample reads. */
const WINDOWS = 20;

/** The checked options (TEND_E_INVALID_STORE_ARGUMENT for a bad one). */
export function stateCountOptions(options: StateCountOptions = {}): Required<StateCountOptions> {
  return {
    sampleRows: checkInteger(
      "TEND_E_INVALID_STORE_ARGUMENT",
      "sampleRows",
      options.sampleRows ?? 20_000,
      1_000,
      1_000_000,
    ),
  };
}

/**
 * Pure: the id ranges to read for ids `lo`..`hi`: the whole span when it holds at most
 * `sampleRows` ids, else {@link WINDOWS} windows of equal width spread evenly over it.
 *
 * @example
 * ```ts
 * sampleWindows(1, 1_000_000, 20_000); // 20 windows of 1,000 ids
 * ```
 */
export function sampleWindows(lo: number, hi: number, sampleRows: number): Array<[number, number]> {
  const span = hi - lo + 1;
  if (span <= sampleRows) return [[lo, hi]];
  const width = Math.floor(sampleRows / WINDOWS);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < WINDOWS; i++) {
    const start = lo + Math.floor(((i + 0.5) * span) / WINDOWS) - Math.floor(width / 2);
    out.push([start, start + width - 1]);
  }
  return out;
}

/**
 * Pure: the counts from the rows seen in `windows` of ids `lo`..`hi`, scaled up to the span when
 * the windows sampled it.
 *
 * @example
 * ```ts
 * scaleCounts([{ queue: "q", state: "completed", count: 900 }], [[1, 1000]], 1, 1_000_000);
 * ```
 */
export function scaleCounts(
  seen: readonly StateCount[],
  windows: ReadonlyArray<[number, number]>,
  lo: number,
  hi: number,
): StateCounts {
  const sampled = windows.reduce((n, [a, b]) => n + (b - a + 1), 0);
  const span = hi - lo + 1;
  const exact = sampled >= span;
  const factor = exact ? 1 : span / sampled;
  return {
    exact,
    sampledRows: seen.reduce((n, c) => n + c.count, 0),
    counts: seen
      .map((c) => ({ ...c, count: Math.round(c.count * factor) }))
      .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.state < b.state ? -1 : 1)),
  };
}
