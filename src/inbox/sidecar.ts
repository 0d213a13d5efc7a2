import { open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { fsyncDir } from "./folders.ts";

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

/** A file's identity as a sidecar records it (see {@link FailureRecord.file}). Pure. */
export function fileIdentity(st: { dev: number; ino: number }): string {
  return `${st.dev}:${st.ino}`;
}

/** Describes any thrown value as a plain error record (non-Errors become their string form). Pure. */
export function describeError(err: unknown): FailureRecord["error"] {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === "string" ? { code } : {}),
      ...(err.stack === undefined ? {} : { stack: err.stack }),
    };
  }
  let message: string;
  try {
    message = typeof err === "string" ? err : (JSON.stringify(err) ?? String(err));
  } catch {
    message = String(err);
  }
  return { name: "NonError", message };
}

/** Writes `data` to `dir/name` atomically and durably (temporary dot file, fsync, rename, folder fsync). */
export async function writeFileAtomic(dir: string, name: string, data: string): Promise<void> {
  const temp = join(
    dir,
    `.tend-sidecar~${process.pid}~${Date.now()}~${Math.random().toString(36).slice(2)}.tmp`,
  );
  const fh = await open(temp, "wx", 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    await rename(temp, join(dir, name));
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
}
