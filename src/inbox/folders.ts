import { link, lstat, mkdir, open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TendError } from "../errors/index.ts";
import { variantName, variantNames } from "./names.ts";
import { releaseName, takeName } from "./placeholder.ts";
import { fileIdentity } from "./identity.ts";
import type { ResolvedInboxOptions } from "./options.ts";

/** The errno code of a Node fs error, if any. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string"
    ? err.code
    : undefined;
}

/**
 * Flushes a folder's entries (new names, renames) to disk. Required after a rename that must
 * survive power loss. Filesystems that cannot fsync a folder are tolerated. Concurrent callers for
 * one folder share syncs: a caller waits for the next sync that starts after its call, which covers
 * every rename done before it (group commit), so N files finishing together cost about two syncs.
 */
export function fsyncDir(path: string): Promise<void> {
  let group = dirSyncs.get(path);
  if (group === undefined) {
    group = { running: undefined, next: undefined };
    dirSyncs.set(path, group);
  }
  if (group.next !== undefined) return group.next;
  const g = group;
  let self: Promise<void> | undefined;
  const next = (async () => {
    await (g.running ?? Promise.resolve()).catch(() => {});
    g.next = undefined;
    g.running = self;
    try {
      await syncOnce(path);
    } finally {
      if (g.running === self) g.running = undefined;
      if (g.running === undefined && g.next === undefined) dirSyncs.delete(path);
    }
  })();
  self = next;
  g.next = next;
  return next;
}

const dirSyncs = new Map<string, { running: Promise<void> | undefined; next: Promise<void> | undefined }>();

async function syncOnce(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } catch (err) {
    const code = errnoCode(err);
    if (code !== "EINVAL" && code !== "EPERM" && code !== "EISDIR" && code !== "ENOTSUP") throw err;
  } finally {
    await fh.close();
  }
}

async function ensureFolder(role: string, path: string): Promise<number> {
  try {
    await mkdir(path, { recursive: true });
    const st = await lstat(path);
    if (!st.isDirectory()) throw new Error(`${path} exists and is not a folder`);
    return st.dev;
  } catch (err) {
    throw new TendError(
      "TEND_E_INBOX_FOLDER_UNUSABLE",
      `The inbox ${role} folder ${path} could not be created or used (${(err as Error).message}); check the path and its permissions.`,
      { details: { role, path }, cause: err },
    );
  }
}

/**
 * Creates the inbox folders and checks that the inbox, processing, done and failed folders share
 * one filesystem (compared by `st_dev`), so that claiming and finishing are atomic renames. Throws
 * `TEND_E_INBOX_CROSS_DEVICE` otherwise; the output folder may live anywhere.
 */
export async function prepareFolders(o: ResolvedInboxOptions): Promise<void> {
  const devs: [string, string, number][] = [];
  for (const [role, path] of [
    ["inbox", o.dir],
    ["processing", o.processingDir],
    ["done", o.doneDir],
    ["failed", o.failedDir],
  ] as const) {
    devs.push([role, path, await ensureFolder(role, path)]);
  }
  await ensureFolder("output", o.outDir);
  const [, inboxPath, inboxDev] = devs[0] as [string, string, number];
  for (const [role, path, dev] of devs.slice(1)) {
    if (dev !== inboxDev) {
      throw new TendError(
        "TEND_E_INBOX_CROSS_DEVICE",
        `The inbox folder ${inboxPath} and the ${role} folder ${path} are on different filesystems, so a file could not be claimed or finished by an atomic rename. Put the ${role} folder on the inbox's filesystem (the default, inside the inbox folder, always is).`,
        { details: { inbox: inboxPath, role, path, inboxDev, dev } },
      );
    }
  }
}

/** Whether `path` exists (as anything, a symbolic link not followed). */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  }
}

/**
 * Moves `src` into `destDir` under `name`, or under `name~1`, `name~2`... when that name is taken,
 * so that another file of the same name is never replaced, not even one that another inbox moves
 * there at the same moment: each name is taken atomically by {@link moveNoClobber}. Returns the
 * name used.
 */
export async function moveToFreeName(src: string, destDir: string, name: string): Promise<string> {
  for (const candidate of variantNames(name)) {
    if (await moveNoClobber(src, join(destDir, candidate))) return candidate;
  }
  const last = variantName(name, Date.now());
  await rename(src, join(destDir, last));
  return last;
}

/** The errors of `link` on a filesystem (or for a file) that cannot take another hard link. */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "EMLINK"]);

/**
 * Moves `src` to `dest` unless `dest` exists, so that a file of that name is never replaced, not
 * even one that another inbox moves there at the same moment. Returns false (and leaves `src`) when
 * `dest` is taken. The name is taken by a hard link, which fails when the name exists, and `src` is
 * unlinked after; a crash between the two steps leaves the file under both names, and recovery
 * finds the claimed copy already there (same inode, see recovery.ts) and drops it. Where the link
 * is refused (a file of another user under `fs.protected_hardlinks`, a filesystem without hard
 * links) the name is taken by a placeholder and `src` renamed onto it (see placeholder.ts); the
 * placeholder names the file `file` (by default `src`'s identity).
 */
export async function moveNoClobber(src: string, dest: string, file?: string): Promise<boolean> {
  try {
    await link(src, dest);
  } catch (err) {
    const code = errnoCode(err);
    if (code === "EEXIST") return false;
    if (!NO_HARD_LINKS.has(code ?? "")) throw err;
    return renameOntoPlaceholder(src, dest, file ?? fileIdentity(await lstat(src)));
  }
  await unlink(src);
  return true;
}

async function renameOntoPlaceholder(src: string, dest: string, file: string): Promise<boolean> {
  const taken = await takeName(dest, file);
  if (taken === undefined) return false;
  try {
    await rename(src, dest);
  } catch (err) {
    await releaseName(taken);
    throw err;
  }
  return true;
}
