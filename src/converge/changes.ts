/**
 * Pure: whether a converge result's `changed` value means "nothing changed": undefined, null,
 * false, 0, an empty string, an empty array, or an object whose every value is itself empty.
 * So `{ resources: [], clusters: [] }` records nothing, and the converger can always return
 * what it touched.
 *
 * @example
 * ```ts
 * isEmptyChange({ archived: [] }); // true
 * isEmptyChange({ archived: [42] }); // false
 * ```
 */
export function isEmptyChange(value: unknown, seen: WeakSet<object> = new WeakSet()): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") {
    if (value instanceof Date || seen.has(value)) return false;
    seen.add(value);
    return Object.values(value as Record<string, unknown>).every((v) => isEmptyChange(v, seen));
  }
  return false;
}
