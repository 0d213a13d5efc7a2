import { lstat, readdir, rename, rmdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode } from "./folders.ts";
import { variantNames } from "./names.ts";
import { removePlaceholders } from "./placeholder.ts";
import { fileIdentity } from "./sidecar.ts";
import { OUTPUT_TEMP_PREFIX, tempOutputOwner } from "./outputs.ts";
import { formatOwner, liveTokens, type OwnerId, ownerIsAlive, parseOwner, probeProcess } from "./owner.ts";

/**
 * Decides whether the owner named `ownerName` is still alive (see {@link ownerIsAlive}). Its claim
 * folder's mtime is its heartbeat; when that folder is missing, `fallbackMtimeMs` (e.g. the mtime of
 * a temporary output) stands in, and without one the owner counts as gone.
 */
export async function ownerNameIsLive(
  processingDir: string,
  ownerName: string,
  self: OwnerId,
  leaseTtlMs: number,
  fallbackMtimeMs?: number,
): Promise<boolean> {
  const owner = parseOwner(ownerName);
  if (owner === undefined) return true; // not ours to judge: leave foreign folders alone
  if (formatOwner(owner) === formatOwner(self)) return true;
  let mtimeMs: number | undefined = fallbackMtimeMs;
  try {
    mtimeMs = (await stat(join(processingDir, ownerName))).mtimeMs;
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
  const sameHost = owner.host === self.host;
  if (!sameHost && mtimeMs === undefined) return false;
  return ownerIsAlive(owner, {
    self,
    liveTokens,
    probe: sameHost ? probeProcess(owner.pid) : { exists: false, start: undefined },
    heartbeatAgeMs: Date.now() - (mtimeMs ?? 0),
    leaseTtlMs,
  });
}

/** Claim folders in `processingDir` whose owners are dead. */
export async function findDeadClaimFolders(
  processingDir: string,
  self: OwnerId,
  leaseTtlMs: number,
): Promise<string[]> {
  const dead: string[] = [];
  for (const entry of await readdir(processingDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || parseOwner(entry.name) === undefined) continue;
    if (!(await ownerNameIsLive(processingDir, entry.name, self, leaseTtlMs))) dead.push(entry.name);
  }
  return dead;
}

/** Where a claimed file can be moved to (absolute folders). */
export interface MovePlaces {
  /** The inbox folder (a hand-back). */
  readonly dir: string;
  /** The folder of the claim folders (another inbox claimed a handed-back file). */
  readonly processingDir: string;
  /** The done folder (a finished file). */
  readonly doneDir: string;
  /** The failed folder (a failed file). */
  readonly failedDir: string;
}

/** The name a failure sidecar has beside its input's name. */
const SIDECAR = ".error.json";

/** The same file: one inode on one device. */
function sameFile(a: { dev: number; ino: number }, b: { dev: number; ino: number } | undefined): boolean {
  return b !== undefined && fileIdentity(a) === fileIdentity(b);
}

/**
 * Whether the claimed file `name` (in `claimDir`, with the stat `st`, which has another name) is
 * already where a move of it by a hard link put it: the inbox under its name (a hand-back), another
 * claim folder under its name (another inbox claimed it after it was handed back), or done/ or
 * failed/ under its name or one of its variants (`name~1`, ...: a finished or failed file). Such a
 * move was interrupted between its link and its unlink (a crash), so the claimed copy is a
 * leftover: processing it again would process the file twice. A file that has another name for
 * some other reason (a producer kept a hard link of its own) is found in none of these places.
 */
export async function movedElsewhere(
  name: string,
  st: { dev: number; ino: number },
  claimDir: string,
  places: MovePlaces,
): Promise<boolean> {
  const at = (path: string) => lstat(path).catch(() => undefined);
  if (sameFile(st, await at(join(places.dir, name)))) return true;
  const folders = await readdir(places.processingDir).catch(() => [] as string[]);
  for (const folder of folders) {
    const path = join(places.processingDir, folder);
    if (path === claimDir) continue;
    if (sameFile(st, await at(join(path, name)))) return true;
  }
  for (const dir of [places.doneDir, places.failedDir]) {
    for (const candidate of variantNames(name)) {
      const there = await at(join(dir, candidate));
      if (there === undefined) break;
      if (sameFile(st, there)) return true;
    }
  }
  return false;
}

/**
 * Moves the files of a dead owner's claim folder into `myDir` (atomic renames: when two live inboxes
 * recover at once, each file goes to exactly one of them) and removes the folder once empty.
 * A file whose move by a hard link was interrupted (it has another name, and the same inode is
 * already in the inbox, in another claim folder, or in done/ or failed/ under its name or a
 * variant of it: see {@link movedElsewhere}) is just dropped; placeholders a crash left for an
 * adopted file (see placeholder.ts) are deleted. Each name is first reserved with `reserve(name)`
 * (false: the name is taken in `myDir` right now, so the file is left for a later pass) and handed
 * back with `release(name)` when it is not adopted after all. Returns adopted names, still reserved.
 */
export async function adoptClaimFolder(
  deadDir: string,
  myDir: string,
  places: MovePlaces,
  reserve: (name: string) => boolean,
  release: (name: string) => void,
): Promise<string[]> {
  const adopted: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(deadDir);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return adopted;
    throw err;
  }
  for (const name of entries) {
    if (!reserve(name)) continue;
    let taken = false;
    const from = join(deadDir, name);
    try {
      const st = await lstat(from);
      if (st.isDirectory()) continue;
      if (st.isFile() && st.nlink > 1 && (await movedElsewhere(name, st, deadDir, places))) {
        await unlink(from);
        continue;
      }
      await rename(from, join(myDir, name));
      adopted.push(name);
      taken = true;
      // Placeholders left for it by a crash between taking a name and the rename onto it: stale now
      // that the file is this inbox's alone (placeholder.ts).
      await removePlaceholders(
        places.dir,
        [places.doneDir, places.failedDir],
        name,
        SIDECAR,
        fileIdentity(st),
      );
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw err;
    } finally {
      if (!taken) release(name);
    }
  }
  await rmdir(deadDir).catch(() => {});
  return adopted;
}

/** Deletes temporary outputs in `outDir` left by owners that are dead. Returns how many. */
export async function removeDeadTemporaryOutputs(
  outDir: string,
  processingDir: string,
  self: OwnerId,
  leaseTtlMs: number,
): Promise<number> {
  let removed = 0;
  const verdicts = new Map<string, boolean>();
  for (const name of await readdir(outDir)) {
    if (!name.startsWith(OUTPUT_TEMP_PREFIX)) continue;
    const owner = tempOutputOwner(name);
    if (owner === undefined || parseOwner(owner) === undefined) continue;
    let live = verdicts.get(owner);
    if (live === undefined) {
      const tempMtime = await stat(join(outDir, name)).then(
        (st) => st.mtimeMs,
        () => undefined,
      );
      if (tempMtime === undefined) continue;
      live = await ownerNameIsLive(processingDir, owner, self, leaseTtlMs, tempMtime);
      verdicts.set(owner, live);
    }
    if (!live) {
      await unlink(join(outDir, name)).catch(() => {});
      removed++;
    }
  }
  return removed;
}
