import { isAbsolute, resolve } from "node:path";
import { invalidArgument } from "../../errors/index.ts";
import { durationFromText, parseDuration } from "../../lifecycle/index.ts";

/** What an `sqlite:` URL says: where the file is and how to run it. */
export interface SqliteUrl {
  /** Absolute path of the database file, or `:memory:` (one process, one Store instance). */
  path: string;
  /** `FULL` (default: a commit is durable before it is acknowledged) or `NORMAL`. */
  synchronous: "FULL" | "NORMAL";
  /** How often listeners poll `PRAGMA data_version` for commits by other connections, in ms. */
  pollMs: number;
}

/** Default interval of the cross-process commit poll. */
export const DEFAULT_POLL_MS = 25;

/** The longest poll a URL may ask for (1h): a longer one would hide other processes' commits. */
const MAX_POLL_MS = 3_600_000;

const EXPECTED_URL = '"sqlite:./relative.db", "sqlite:/abs/path.db" or "sqlite:///abs/path.db"';

/**
 * Pure: parses an `sqlite:` database URL. Relative paths resolve against `cwd`. Query options:
 * `synchronous=full|normal` (default full) and `poll=<duration>` (default 25ms). Throws a
 * TendError (TEND_E_INVALID_DATABASE_URL, TEND_E_INVALID_SQLITE_OPTION) naming the bad part.
 *
 * @example
 * ```ts
 * parseSqliteUrl("sqlite:./var/tend.db?synchronous=normal", "/srv/app");
 * // { path: "/srv/app/var/tend.db", synchronous: "NORMAL", pollMs: 25 }
 * ```
 */
export function parseSqliteUrl(url: string, cwd: string = process.cwd()): SqliteUrl {
  if (typeof url !== "string" || !url.startsWith("sqlite:")) {
    throw invalidArgument("TEND_E_INVALID_DATABASE_URL", "SQLite database URL", url, EXPECTED_URL);
  }
  const rest = url.slice("sqlite:".length);
  const q = rest.indexOf("?");
  let location = q === -1 ? rest : rest.slice(0, q);
  const query = q === -1 ? "" : rest.slice(q + 1);
  if (location.startsWith("///")) {
    location = location.slice(2);
  } else if (location.startsWith("//")) {
    // sqlite://host/... names a host; tend's SQLite files are local only.
    throw invalidArgument("TEND_E_INVALID_DATABASE_URL", "SQLite database URL", url, EXPECTED_URL);
  }
  if (location.length === 0 || location.includes("\0")) {
    throw invalidArgument("TEND_E_INVALID_DATABASE_URL", "SQLite database URL", url, EXPECTED_URL);
  }
  const path =
    location === ":memory:" ? location : isAbsolute(location) ? resolve(location) : resolve(cwd, location);

  let synchronous: SqliteUrl["synchronous"] = "FULL";
  let pollMs = DEFAULT_POLL_MS;
  for (const [key, value] of new URLSearchParams(query)) {
    if (key === "synchronous") {
      const v = value.toLowerCase();
      if (v !== "full" && v !== "normal") {
        throw invalidArgument(
          "TEND_E_INVALID_SQLITE_OPTION",
          "SQLite URL option synchronous",
          value,
          '"full" or "normal"',
        );
      }
      synchronous = v === "full" ? "FULL" : "NORMAL";
    } else if (key === "poll") {
      // A bare number is milliseconds; a timer runs on whole ones (at least 1).
      pollMs = Math.ceil(
        parseDuration(durationFromText(value), "SQLite URL option poll", {
          code: "TEND_E_INVALID_SQLITE_OPTION",
          positive: true,
          max: MAX_POLL_MS,
        }),
      );
    } else {
      throw invalidArgument(
        "TEND_E_INVALID_SQLITE_OPTION",
        "SQLite URL option",
        key,
        '"synchronous" or "poll"',
      );
    }
  }
  return { path, synchronous, pollMs };
}

/**
 * True when `prefix` is a safe table-name prefix (lower-case letters, digits, underscores).
 *
 * @example
 * ```ts
 * isValidTablePrefix("tend_"); // true
 * isValidTablePrefix("x; DROP"); // false
 * ```
 */
export function isValidTablePrefix(prefix: string): boolean {
  return /^[a-z_][a-z0-9_]*$/.test(prefix);
}
