import type { JobRecord, ListFilter, Store } from "../../store/index.ts";
import { pageFrom } from "./query.ts";

/**
 * How many ids one filtered page reads at most. A filter that matches few jobs (a rare kind, or
 * none at all) would otherwise walk the whole table newest first to fill a page; instead a page
 * searches this many ids and, when it found fewer jobs than asked, gives the next window as its
 * cursor, so every page answers in bounded time however large the table is.
 */
export const SCAN_WINDOW = 20_000;

/**
 * Pure: the lowest id of the window below `top` (exclusive), or null when it reaches `bottom`
 * (the first id, or the first id of a time range).
 */
export function windowStart(top: bigint, window: number, bottom: bigint = 1n): bigint | null {
  const from = top - BigInt(window);
  return from <= bottom ? null : from;
}

/** True when a list filter narrows the jobs (then its pages search a window of ids). */
export function isFiltered(filter: ListFilter): boolean {
  return (
    filter.state !== undefined ||
    filter.queue !== undefined ||
    filter.kind !== undefined ||
    filter.createdFrom !== undefined ||
    filter.createdBefore !== undefined ||
    filter.text !== undefined ||
    filter.errorText !== undefined
  );
}

/**
 * Pure: the store filter of one filtered page: below `top` (exclusive; the cursor, or the newest
 * id + 1) and at or above the window's start (`bottom` when the window reaches it). Both ends are
 * given, so that even a never analyzed PostgreSQL table is read through the primary key (a
 * one-sided range is estimated at a third of the table, a two-sided one at a small fraction).
 *
 * @example
 * ```ts
 * windowFilter({ state: "discarded", limit: 50 }, 100_000n, 20_000); // beforeId "100000", fromId "80000"
 * ```
 */
export function windowFilter<F extends ListFilter>(
  filter: F,
  top: bigint,
  window: number = SCAN_WINDOW,
  bottom: bigint = 1n,
): F {
  return { ...filter, beforeId: String(top), fromId: String(windowStart(top, window, bottom) ?? bottom) };
}

/**
 * One page of the jobs list: the newest `limit` jobs matching `filter` below its cursor. A filtered
 * page searches at most `window` ids ({@link SCAN_WINDOW} by default): `next` is then the window's start
 * even when the page is short, and `searchedTo` says so. A time range (`createdFrom`,
 * `createdBefore`) becomes a range of ids first (ids grow with creation time), so that its pages
 * read only the ids of that time.
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
    let top: bigint | null = filter.beforeId === undefined ? null : BigInt(filter.beforeId);
    if (filter.createdBefore !== undefined) {
      const end = await store.admin.firstIdAt(filter.createdBefore);
      if (end !== null) top = top === null || BigInt(end) < top ? BigInt(end) : top;
    }
    if (top === null) {
      const [newest] = await store.jobs.list({ limit: 1 });
      top = newest === undefined ? null : BigInt(newest.id) + 1n;
    }
    let bottom = 1n;
    if (filter.createdFrom !== undefined && top !== null) {
      const start = await store.admin.firstIdAt(filter.createdFrom);
      bottom = start === null ? top : BigInt(start);
    }
    if (top === null || top <= bottom) return { items: [], next: null, searchedTo: null };
    query = windowFilter(filter, top, window, bottom);
    from = windowStart(top, window, bottom);
  }
  const rows = await store.jobs.list({ ...query, limit: filter.limit + 1 });
  const page = pageFrom(rows, filter.limit);
  if (page.next !== null || from === null) return { ...page, searchedTo: null };
  return { items: page.items, next: String(from), searchedTo: String(from) };
}
