/** Pure formatting of times, durations and sizes for the dashboard's pages. */

/**
 * Pure: a time as `YYYY-MM-DD HH:MM:SSZ` (UTC), or `-` for none.
 *
 * @example
 * ```ts
 * utcTime(new Date("2026-01-01T10:00:03.100Z")); // "2026-01-01 10:00:03Z"
 * ```
 */
export function utcTime(d: Date | null | undefined): string {
  if (d === null || d === undefined || Number.isNaN(d.getTime())) return "-";
  return d
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/**
 * Pure: a duration in ms in one or two units (`850 ms`, `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`).
 *
 * @example
 * ```ts
 * duration(185_000); // "3 min 5 s"
 * ```
 */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/**
 * Pure: a byte count in B, KiB, MiB or GiB.
 *
 * @example
 * ```ts
 * bytes(52_428_800); // "50.0 MiB"
 * ```
 */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * Pure: a job's (or audit entry's) time as `YYYY-MM-DD HH:MM:SSZ` (UTC), `-` for none, or
 * `(invalid time)` for a stored value no Date holds (a corrupted row; see JobRecord).
 *
 * @example
 * ```ts
 * storedTime(new Date(Number.NaN)); // "(invalid time)"
 * ```
 */
export function storedTime(value: unknown): string {
  if (value === null || value === undefined) return "-";
  return value instanceof Date && !Number.isNaN(value.getTime()) ? utcTime(value) : "(invalid time)";
}
