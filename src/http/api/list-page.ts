import type { JobRecord, ListFilter, Store } from "../../store/index.ts";
import { pageFrom } from "./query.ts";

/**
 * How many ids one filtered page reads at most. A filter that matches few jobs (a rare kind, or
 * none at all) would otherwise walk the whole table newest first to fill a page; instead a page
 * searches this many ids and, when it found fewer jobs than asked, gives the next window as its
 * cursor, so every page answers in bounded time however large the table is.
 */
export const SCAN_WINDOW = 20_000;

/** Pure: the lowest id of the window below `top` (exclusive), or null when it reaches the first id. */
export function windowStart(top: bigint, window: number): bigint | null {
  const from = top - BigInt(window);
  return from <= 1n ? null : from;
}

/** True when a list filter narrows the jobs (then its pages search a window of ids). */
export function isFiltered(filter: ListFilter): boolean {
  return filter.state !== undefined || filter.queue !== undefined || filter.kind !== undefined;
}

/**
 * Pure: the store filter of one filtered page: below `top` (exclusive; the cursor, or the newest
 * id + 1) and at or above the window's start (1 when the window reaches the first id). Both ends are given, so that even a never analyzed
 * PostgreSQL table is read through the primary key (a one-sided range is estimated at a third of
 * the table, a two-sided one at a small fraction).
 *
 * @example
 * ```ts
 * windowFilter({ state: "discarded", limit: 50 }, 100_000n, 20_000); // beforeId "100000", fromId "80000"
 * ```
 */
export function windowFilter<F extends ListFilter>(filter: F, top: bigint, window: number = SCAN_WINDOW): F {
  return { ...filter, beforeId: String(top), fromId: String(windowStart(top, window) ?? 1n) };
}

/**
 * One page of the jobs list: the newest `limit` jobs matching `filter` below its cursor. A filtered
 * page searches at most `window` ids ({@link SCAN_WINDOW} by default): `next` is then the window's start
 * even when the page is short, and `searchedTo` says so.
 *
 * @example
 * ```ts
 * const { items, next } = await listPage(store, { state: "discarded", limit: 50 });
 * ```
 */
export async function listPage(
  store: Store,
  filter: ListFilter & { limit: number },
  window: number = SCAN_WINDOW,
): Promise<{ items: JobRecord[]; next: string | null; searchedTo: string | null }> {
  let query: ListFilter & { limit: number } = filter;
  let from: bigint | null = null;
  if (isFiltered(filter)) {
    let top: bigint | null = null;
    if (filter.beforeId !== undefined) top = BigInt(filter.beforeId);
    else {
      const [newest] = await store.jobs.list({ limit: 1 });
      top = newest === undefined ? null : BigInt(newest.id) + 1n;
    }
    if (top === null) return { items: [], next: null, searchedTo: null };
    query = windowFilter(filter, top, window);
    from = windowStart(top, window);
  }
  const rows = await store.jobs.list({ ...query, limit: filter.limit + 1 });
  const page = pageFrom(rows, filter.limit);
  if (page.next !== null || from === null) return { ...page, searchedTo: null };
  return { items: page.items, next: String(from), searchedTo: String(from) };
}
