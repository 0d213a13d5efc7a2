import { lstat, open, readlink, symlink, unlink } from "node:fs/promises";
import { join } from "node:path";
import { variantNames, fitName } from "./names.ts";

/**
 * Placeholders: how a name is taken atomically where a hard link cannot take it (a file of another
 * user under `fs.protected_hardlinks`, a filesystem without hard links). A placeholder is a
 * symbolic link created under the wanted name — creating one fails when the name exists, so of two
 * inboxes wanting one name exactly one gets it — and the file is then renamed onto it. Its target,
 * `.tend-placeholder~<device>:<inode>`, names the file it holds the name for (it is never followed),
 * so that a placeholder a crash left between the two steps is known and removed when that file is
 * recovered (see recovery.ts), and the inbox never claims one (see discovery.ts).
 */
const PREFIX = ".tend-placeholder~";

/** Pure: the target of the placeholder that holds a name for the file of identity `file`. */
export function placeholderTarget(file: string): string {
  return `${PREFIX}${file}`;
}

/** Pure: the file identity a symbolic link's target names when it is a placeholder, else undefined. */
export function placeholderFile(target: string): string | undefined {
  return target.startsWith(PREFIX) ? target.slice(PREFIX.length) : undefined;
}

/** The file identity named by the placeholder at `path`, or undefined when `path` is no placeholder. */
export async function readPlaceholder(path: string): Promise<string | undefined> {
  try {
    return placeholderFile(await readlink(path));
  } catch {
    return undefined;
  }
}

/** A name taken by {@link takeName}: its path and the placeholder's inode. */
export interface TakenName {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/** The errors of `symlink` on a filesystem that cannot hold symbolic links. */
const NO_SYMLINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Takes the name `path` for the file of identity `file` with a placeholder, or returns undefined
 * when the name exists. On a filesystem without symbolic links the placeholder is an empty file
 * created exclusively (`O_EXCL`), which names no file and cannot be told from an input: one left
 * by a crash stays behind (in the inbox, after a hand-back, it is imported as an empty input; see
 * docs/inbox.md).
 */
export async function takeName(path: string, file: string): Promise<TakenName | undefined> {
  try {
    await symlink(placeholderTarget(file), path);
  } catch (err) {
    if (code(err) === "EEXIST") return undefined;
    if (!NO_SYMLINKS.has(code(err) ?? "")) throw err;
    try {
      await (await open(path, "wx", 0o600)).close();
    } catch (err2) {
      if (code(err2) === "EEXIST") return undefined;
      throw err2;
    }
  }
  const st = await lstat(path);
  return { path, dev: st.dev, ino: st.ino };
}

/** Removes the placeholder `taken` unless something else now has its name. */
export async function releaseName(taken: TakenName): Promise<void> {
  const st = await lstat(taken.path).catch(() => undefined);
  if (st !== undefined && st.dev === taken.dev && st.ino === taken.ino)
    await unlink(taken.path).catch(() => {});
}

/**
 * Deletes the placeholders that name the file `file` (a crash left them between taking a name and
 * the rename onto it): at `name` in `inboxDir`, and at `name` or a variant of it (`name~1`, ...),
 * input or sidecar (`suffix`), in each of `finishDirs` (looked at until the first variant with
 * neither). Call it only for a file no live inbox is moving (one in a dead owner's claim folder).
 * Returns how many it deleted.
 */
export async function removePlaceholders(
  inboxDir: string,
  finishDirs: readonly string[],
  name: string,
  suffix: string,
  file: string,
): Promise<number> {
  let removed = 0;
  const drop = async (path: string): Promise<void> => {
    if ((await readPlaceholder(path)) !== file) return;
    await unlink(path).catch(() => {});
    removed++;
  };
  await drop(join(inboxDir, name));
  for (const dir of finishDirs) {
    for (const candidate of variantNames(name)) {
      const paths = [join(dir, candidate), join(dir, fitName(candidate, suffix))];
      const there = await Promise.all(
        paths.map((p) =>
          lstat(p).then(
            () => true,
            () => false,
          ),
        ),
      );
      if (!there.includes(true)) break;
      for (const [i, p] of paths.entries()) if (there[i] === true) await drop(p);
    }
  }
  return removed;
}
