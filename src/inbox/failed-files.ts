import { lstat, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TendError } from "../errors/index.ts";
import { errnoCode, exists, fsyncDir, moveNoClobber } from "./folders.ts";
import { fitName, variantName, variantNames } from "./names.ts";
import type { ResolvedInboxOptions } from "./options.ts";
import { type FailureRecord, writeFileAtomic, writeFileExclusive } from "./sidecar.ts";

const SIDECAR = ".error.json";

/** A file in an inbox's failed folder, with what its sidecar says (when it can be read). */
export interface FailedFile {
  /** Its name in the failed folder. */
  name: string;
  /** The name it arrived under (the sidecar's `name`; its own name without a sidecar). */
  originalName: string;
  size: number;
  /** The sidecar's `failedAt`, else the file's modification time. */
  failedAt: Date;
  /** The last error's message, or null without a readable sidecar. */
  error: string | null;
  attempts: number | null;
}

/** Pure: whether an entry of the failed folder is a failed input (not a sidecar, not a temporary file). */
export function isFailedInput(name: string): boolean {
  return !name.startsWith(".") && !name.endsWith(SIDECAR);
}

async function readSidecar(dir: string, name: string): Promise<FailureRecord | null> {
  try {
    return JSON.parse(await readFile(join(dir, fitName(name, SIDECAR)), "utf8")) as FailureRecord;
  } catch {
    return null;
  }
}

/**
 * The sidecars in `failedDir`, for `name` and its variants (`name~1`, ...), that have no file beside
 * them and were written for the file `file` (see {@link FailureRecord.file}): left by a crash after
 * the sidecar was written and before the file moved. Stops at the first variant that has neither.
 */
async function orphanSidecars(failedDir: string, name: string, file: string): Promise<string[]> {
  const found: string[] = [];
  for (const candidate of variantNames(name)) {
    const [input, sidecar] = await Promise.all(
      [candidate, fitName(candidate, SIDECAR)].map((x) => lstat(join(failedDir, x)).catch(() => undefined)),
    );
    if (input === undefined && sidecar === undefined) break;
    if (input !== undefined) continue;
    if ((await readSidecar(failedDir, candidate))?.file === file) found.push(candidate);
  }
  return found;
}

/**
 * Moves the failing input `src` (its identity `file`, arrived as `name`) into `failedDir` beside
 * its own sidecar, `sidecarFor(failedAs)`, under the first of `name`, `name~1`, ... that is free, and
 * returns that name. The sidecar takes the name first, created exclusively, so that of two inboxes
 * failing same-named files at the same moment each gets a name of its own; the file then moves
 * beside it without replacing anything. A crash between the two steps leaves a sidecar without its
 * file, known by its `file` (see {@link FailureRecord.file}): when this file fails again that sidecar
 * is deleted first (and normally taken again), and when it ends in done/ instead,
 * {@link removeOrphanSidecars} deletes it.
 */
export async function moveToFailed(
  failedDir: string,
  name: string,
  src: string,
  file: string,
  sidecarFor: (failedAs: string) => string,
): Promise<string> {
  await removeOrphanSidecars(failedDir, name, file);
  for (const candidate of variantNames(name)) {
    if (await exists(join(failedDir, candidate))) continue;
    const sidecar = fitName(candidate, SIDECAR);
    if (!(await writeFileExclusive(failedDir, sidecar, sidecarFor(candidate), file))) continue;
    if (await moveNoClobber(src, join(failedDir, candidate), file)) return candidate;
    // Something other than an inbox put a file there meanwhile (inboxes take the sidecar first).
    await unlink(join(failedDir, sidecar)).catch(() => {});
  }
  const last = variantName(name, Date.now());
  await writeFileAtomic(failedDir, fitName(last, SIDECAR), sidecarFor(last));
  await rename(src, join(failedDir, last));
  return last;
}

/**
 * Deletes the sidecars a crash left in `failedDir` for the file `file` (see {@link moveToFailed}),
 * before it fails again or once it is done after all. Returns how many.
 */
export async function removeOrphanSidecars(failedDir: string, name: string, file: string): Promise<number> {
  const orphans = await orphanSidecars(failedDir, name, file);
  for (const orphan of orphans) await unlink(join(failedDir, fitName(orphan, SIDECAR))).catch(() => {});
  return orphans.length;
}

/**
 * The files of an inbox's failed folder, most recently failed first, at most `limit` (the folder
 * is read whole; its sidecars only for the files returned).
 *
 * @example
 * ```ts
 * for (const f of await listFailedFiles(inbox.options, 100)) console.log(f.name, f.error);
 * ```
 */
export async function listFailedFiles(o: ResolvedInboxOptions, limit: number): Promise<FailedFile[]> {
  let names: string[];
  try {
    names = (await readdir(o.failedDir)).filter(isFailedInput);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return [];
    throw err;
  }
  const files: Array<{ name: string; size: number; mtime: Date }> = [];
  for (const name of names) {
    try {
      const st = await lstat(join(o.failedDir, name));
      if (st.isFile()) files.push({ name, size: st.size, mtime: st.mtime });
    } catch {
      // Moved away meanwhile.
    }
  }
  files.sort((a, b) => b.mtime.getTime() - a.mtime.getTime());
  const out: FailedFile[] = [];
  for (const f of files.slice(0, limit)) {
    const record = await readSidecar(o.failedDir, f.name);
    const failedAt = record === null ? f.mtime : new Date(record.failedAt);
    out.push({
      name: f.name,
      originalName: typeof record?.name === "string" ? record.name : f.name,
      size: f.size,
      failedAt: Number.isNaN(failedAt.getTime()) ? f.mtime : failedAt,
      error: typeof record?.error?.message === "string" ? record.error.message : null,
      attempts: typeof record?.attempts === "number" ? record.attempts : null,
    });
  }
  return out.sort((a, b) => b.failedAt.getTime() - a.failedAt.getTime());
}

/**
 * Retries a failed file: moves it from the failed folder back into the inbox under the name it
 * arrived with (never replacing a file of that name: TEND_E_INBOX_RETRY_CONFLICT then), and
 * deletes its sidecar. The inbox claims it again like any new file. Throws
 * TEND_E_INBOX_FAILED_FILE_NOT_FOUND when the failed folder holds no such file.
 *
 * @example
 * ```ts
 * await retryFailedFile(inbox.options, "orders.csv"); // "orders.csv", back in the inbox
 * ```
 */
export async function retryFailedFile(o: ResolvedInboxOptions, name: string): Promise<string> {
  if (name === "" || name.includes("/") || name.includes("\0") || !isFailedInput(name))
    throw new TendError(
      "TEND_E_INBOX_FAILED_FILE_NOT_FOUND",
      `"${name.slice(0, 80)}" is not the name of a failed file of inbox ${o.name}.`,
      { details: { inbox: o.name, name: name.slice(0, 200) } },
    );
  const src = join(o.failedDir, name);
  const st = await lstat(src).catch(() => null);
  if (st === null || !st.isFile())
    throw new TendError(
      "TEND_E_INBOX_FAILED_FILE_NOT_FOUND",
      `Inbox ${o.name} has no failed file "${name.slice(0, 80)}" (retried or moved already?).`,
      { details: { inbox: o.name, name: name.slice(0, 200) } },
    );
  const record = await readSidecar(o.failedDir, name);
  const original =
    typeof record?.name === "string" && isFailedInput(record.name) && !record.name.includes("/")
      ? record.name
      : name;
  if (!(await moveNoClobber(src, join(o.dir, original))))
    throw new TendError(
      "TEND_E_INBOX_RETRY_CONFLICT",
      `Inbox ${o.name} already holds a file named "${original.slice(0, 80)}": the failed file was left where it is.`,
      { details: { inbox: o.name, name: original.slice(0, 200) } },
    );
  await fsyncDir(o.dir);
  await unlink(join(o.failedDir, fitName(name, SIDECAR))).catch((err: unknown) => {
    if (errnoCode(err) !== "ENOENT") throw err;
  });
  return original;
}
