/** A live master as the division sees it. */
export interface FleetMember {
  id: string;
  min: number;
  max: number;
  /** Its current worker count. */
  desired: number;
}

/**
 * Pure: divides a fleet's worker count between its live masters, the same way on every master
 * (ordered by id): each gets its own min, then one more in turn to those below their max, until
 * `total` is reached or every master is at its max.
 *
 * @example
 * ```ts
 * divideWorkers(5, [{ id: "a", min: 1, max: 4, desired: 0 }, { id: "b", min: 1, max: 4, desired: 0 }]);
 * // Map { "a" => 3, "b" => 2 }
 * ```
 */
export function divideWorkers(total: number, members: readonly FleetMember[]): Map<string, number> {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const share = new Map(sorted.map((m) => [m.id, m.min]));
  let left = total - sorted.reduce((n, m) => n + m.min, 0);
  while (left > 0) {
    let gave = false;
    for (const m of sorted) {
      if (left === 0) break;
      const n = share.get(m.id) ?? 0;
      if (n < m.max) {
        share.set(m.id, n + 1);
        left--;
        gave = true;
      }
    }
    if (!gave) break;
  }
  return share;
}

/** Pure: the fleet's bounds and current count, summed over its live masters. */
export function fleetTotals(members: readonly FleetMember[]): { min: number; max: number; current: number } {
  return members.reduce(
    (t, m) => ({ min: t.min + m.min, max: t.max + m.max, current: t.current + m.desired }),
    { min: 0, max: 0, current: 0 },
  );
}
