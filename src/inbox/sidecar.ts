import { open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { describeValue, isInstance, readOr } from "../errors/index.ts";
import { fsyncDir, moveNoClobber } from "./folders.ts";

/** One attempt at a file, as recorded in a failure sidecar. */
export interface AttemptRecord {
  readonly attempt: number;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly error: string;
}

/** The content of `<name>.error.json` written beside a file moved to failed/. */
export interface FailureRecord {
  /** The input's name as it arrived. */
  readonly name: string;
  /** The name it has in failed/ (differs when the name was taken). */
  readonly failedAs: string;
  readonly error: {
    readonly name: string;
    readonly message: string;
    readonly code?: string;
    readonly stack?: string;
  };
  readonly attempts: number;
  readonly attemptLog: readonly AttemptRecord[];
  readonly claimedAt: string;
  readonly failedAt: string;
  readonly size: number | undefined;
  readonly host: string;
  readonly pid: number;
  /**
   * The input file's identity, `<device>:<inode>` (absent in sidecars of older versions): a sidecar
   * left without its file by a crash between the two steps of a failure is known by it, and reused
   * or removed when that file ends (see failed-files.ts).
   */
  readonly file?: string;
}

export { fileIdentity } from "./identity.ts";

/**
 * Describes any thrown value as a plain error record (non-Errors become their JSON or string
 * form). Total: a value that neither JSON nor String can show (a null-prototype object with a
 * cycle, a getter or Proxy trap that throws) is described anyway, so that a file whose processing
 * threw it still ends in `failed/`. Pure.
 *
 * @example
 * ```ts
 * describeError(new Error("bad row 3")); // { name: "Error", message: "bad row 3", stack: "..." }
 * describeError({ line: 3 }); // { name: "NonError", message: '{"line":3}' }
 * ```
 */
export function describeError(err: unknown): FailureRecord["error"] {
  if (isInstance(err, Error)) {
    const code = readOr(() => (err as { code?: unknown }).code, undefined);
    const stack = readOr(() => err.stack, undefined);
    return {
      name: readOr(() => String(err.name), "Error"),
      message: readOr(() => String(err.message), describeValue(err)),
      ...(typeof code === "string" ? { code } : {}),
      ...(typeof stack === "string" ? { stack } : {}),
    };
  }
  return { name: "NonError", message: thrownText(err) };
}

/** Pure: a thrown non-Error as text: itself for a string, else its JSON, else String, else described. */
function thrownText(err: unknown): string {
  if (typeof err === "string") return err;
  try {
    const text = JSON.stringify(err);
    if (text !== undefined) return text;
  } catch {
    // Neither JSON (a cycle, a BigInt, a throwing toJSON): try String below.
  }
  try {
    return String(err);
  } catch {
    return describeValue(err);
  }
}

/** Writes `data` to `dir/name` atomically and durably (temporary dot file, fsync, rename, folder fsync). */
export async function writeFileAtomic(dir: string, name: string, data: string): Promise<void> {
  const temp = await writeTemporary(dir, data);
  try {
    await rename(temp, join(dir, name));
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
}

/**
 * Writes `data` to `dir/name` atomically and durably unless `dir/name` exists: never replaces a
 * file, not even one written there at the same moment (see {@link moveNoClobber}; a placeholder
 * taken for it names the file `file`). Returns false, writing nothing, when the name is taken.
 */
export async function writeFileExclusive(
  dir: string,
  name: string,
  data: string,
  file: string,
): Promise<boolean> {
  const temp = await writeTemporary(dir, data);
  let written = false;
  try {
    written = await moveNoClobber(temp, join(dir, name), file);
  } finally {
    if (!written) await unlink(temp).catch(() => {});
  }
  if (written) await fsyncDir(dir);
  return written;
}

/** Writes `data` to a new temporary dot file in `dir`, fsynced; returns its path. */
async function writeTemporary(dir: string, data: string): Promise<string> {
  const temp = join(
    dir,
    `.tend-sidecar~${process.pid}~${Date.now()}~${Math.random().toString(36).slice(2)}.tmp`,
  );
  const fh = await open(temp, "wx", 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
  return temp;
}
