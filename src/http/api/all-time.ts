import type { StateCounts } from "../../store/index.ts";
import type { AdminSources } from "./sources.ts";

/** How long one reading of the jobs by queue and state serves the overview (ms). */
export const ALL_TIME_TTL_MS = 10_000;

const cache = new WeakMap<AdminSources, { at: number; value: Promise<StateCounts> }>();

/**
 * Jobs by queue and state over the whole table (see AdminStore.stateCounts: exact on a small
 * table, estimated from a sample of 20,000 rows on a large one), read at most once per
 * {@link ALL_TIME_TTL_MS} per dashboard.
 *
 * @example
 * ```ts
 * const totals = await allTimeCounts(sources);
 * ```
 */
export function allTimeCounts(s: AdminSources): Promise<StateCounts> {
  const hit = cache.get(s);
  if (hit !== undefined && performance.now() - hit.at < ALL_TIME_TTL_MS) return hit.value;
  const value = s.store.admin.stateCounts();
  cache.set(s, { at: performance.now(), value });
  // A failed read is not kept: the next request tries again.
  value.catch(() => cache.delete(s));
  return value;
}
