import { TendError } from "../../errors/index.ts";

/** SQLite primary result codes that mean the file is not usable as a database here. */
const UNUSABLE: ReadonlyMap<number, string> = new Map([
  [3, "access is denied"],
  [8, "it is read-only for this user"],
  [10, "a disk I/O error occurred"],
  [11, "the file is corrupt"],
  [14, "it cannot be opened (a folder, or a folder on its path is missing or not readable)"],
  [26, "the file is not a database"],
]);

/** File-system codes of creating the database's folder. */
const FOLDER: ReadonlyMap<string, string> = new Map([
  ["EACCES", "its folder cannot be created: permission denied"],
  ["EPERM", "its folder cannot be created: permission denied"],
  ["ENOTDIR", "a part of its folder path is a file"],
  ["EROFS", "its folder is on a read-only file system"],
]);

/**
 * Pure: the TendError for a failure to open an SQLite database at `path` (TEND_E_DATABASE_UNREADABLE
 * naming the path and what to check), or `err` itself when it is not about the file (a busy
 * database, a statement error).
 *
 * @example
 * ```ts
 * throw unusableDatabase(err, "/srv/app/var/tend.db");
 * ```
 */
export function unusableDatabase(err: unknown, path: string): unknown {
  if (err === null || typeof err !== "object" || err instanceof TendError) return err;
  const e = err as { errcode?: unknown; code?: unknown; message?: unknown };
  const why =
    typeof e.errcode === "number"
      ? UNUSABLE.get(e.errcode & 0xff)
      : typeof e.code === "string"
        ? FOLDER.get(e.code)
        : undefined;
  if (why === undefined) return err;
  return new TendError(
    "TEND_E_DATABASE_UNREADABLE",
    `Cannot use ${path} as tend's SQLite database: ${why} (${String(e.message)}). Check that the URL names tend's database file, not another file or a folder, and that this user can read and write it and its folder.`,
    { cause: err, details: { path } },
  );
}

/**
 * The TendError for an SQLite database that a caller asked not to create and that does not exist.
 *
 * @example
 * ```ts
 * if (!existsSync(path)) throw databaseNotFound(path, url);
 * ```
 */
export function databaseNotFound(path: string, url: string): TendError {
  return new TendError(
    "TEND_E_DATABASE_NOT_FOUND",
    `No SQLite database at ${path} (${url}). Check the path (relative paths start from the current folder, ${process.cwd()}), or create and migrate it with \`tend migrate --database ${url}\`.`,
    { details: { path, url } },
  );
}
