/**
 * The version of tend's code in this build, as in package.json (a test checks they agree). A
 * migration names the oldest such version whose code still works on a schema that holds it
 * (`Migration.compatibleFrom`), so that an older binary can tell whether it may start on a
 * database that a newer one migrated. Kept as a constant rather than read from package.json so
 * that a bundled single-file build knows it too.
 */
export const TEND_VERSION = "0.1.0";

/** Pure: the numeric parts of a `major.minor.patch` version (a pre-release tail is ignored), or null. */
export function parseVersion(text: string): [number, number, number] | null {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(text);
  if (m === null) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/**
 * Pure: whether code at version `code` may run on a schema holding a migration that declares
 * `compatibleFrom` (the oldest code version it works with). An unreadable declaration is treated
 * as incompatible: a binary never guesses in favour of starting.
 *
 * @example
 * ```ts
 * codeAccepts("0.1.0", "0.1.0"); // true
 * codeAccepts("0.1.0", "0.2.0"); // false
 * ```
 */
export function codeAccepts(code: string, compatibleFrom: string): boolean {
  const a = parseVersion(code);
  const b = parseVersion(compatibleFrom);
  if (a === null || b === null) return false;
  for (let i = 0; i < 3; i++) {
    if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  }
  return true;
}
