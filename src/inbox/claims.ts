import { lstat, mkdir, rename, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { TendError } from "../errors/index.ts";
import type { Logger } from "../log/index.ts";
import type { StrangeEntry } from "./discovery.ts";
import { errnoCode, moveNoClobber } from "./folders.ts";
import { undecodableStandIn } from "./names.ts";
import { type FileSignature, sameSignature } from "./settle.ts";

/** Result of a claim attempt. */
export type ClaimResult = "claimed" | "lost" | "changed" | "folder-missing";

/**
 * The claim folder of one running inbox, and the names it holds. A file is claimed by renaming it
 * from the inbox into this folder: atomic, so when several inboxes race for a file exactly one
 * wins and the others get ENOENT. A name is held before any rename into the folder and released
 * when its file has left it, so that a claim and a recovery never rename two files onto one name.
 */
export class ClaimFolder {
  readonly path: string;
  readonly #inbox: string;
  readonly #log: Logger;
  readonly #held = new Set<string>();

  constructor(inboxDir: string, path: string, log: Logger) {
    this.#inbox = inboxDir;
    this.path = path;
    this.#log = log;
  }

  /** Creates the folder (it must not exist yet: its name is unique to this run). */
  async create(): Promise<void> {
    await mkdir(this.path);
  }

  /** Removes the folder if it is empty; false when files remain in it. */
  async removeIfEmpty(): Promise<boolean> {
    try {
      await rmdir(this.path);
      return true;
    } catch (err) {
      return errnoCode(err) !== "ENOTEMPTY";
    }
  }

  /** True while `name` is (or is being moved) in this folder. */
  holds(name: string): boolean {
    return this.#held.has(name);
  }

  /** Holds `name` unless it is held already; true when this call now holds it. */
  reserve(name: string): boolean {
    if (this.#held.has(name)) return false;
    this.#held.add(name);
    return true;
  }

  /** Releases `name` (its file has left the folder). */
  release(name: string): void {
    this.#held.delete(name);
  }

  /** Releases `name` if its file is no longer in this folder (deleted along with the folder). */
  async releaseIfVanished(name: string): Promise<void> {
    try {
      await lstat(join(this.path, name));
    } catch (err) {
      if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") this.release(name);
    }
  }

  /**
   * Claims inbox file `name`. With `settled` (the signature at which a written-in-place file
   * settled), a file that changed meanwhile is handed back to settle again ("changed").
   */
  async claim(name: string, settled?: FileSignature): Promise<ClaimResult> {
    if (!this.reserve(name)) return "lost";
    try {
      await rename(join(this.#inbox, name), join(this.path, name));
    } catch (err) {
      this.release(name);
      if (!(await this.#intact())) return "folder-missing";
      if (errnoCode(err) !== "ENOENT")
        this.#log.warn({ err, file: name }, "claiming a file failed; will retry at the next rescan");
      return "lost";
    }
    if (settled !== undefined && (await this.#changedSince(name, settled))) return "changed";
    return "claimed";
  }

  /**
   * Claims an entry that must fail rather than be processed (not a regular file, or a name that is
   * not UTF-8, which gets a safe stand-in). Returns the name it has here and, for an undecodable
   * name, the error to record.
   */
  async claimStrange(entry: StrangeEntry): Promise<{ name: string; refuse?: TendError } | undefined> {
    const name = entry.name ?? undecodableStandIn(entry.raw);
    if (!this.reserve(name)) return undefined;
    const from = Buffer.concat([Buffer.from(`${this.#inbox}/`), entry.raw]);
    try {
      await rename(from, join(this.path, name));
    } catch (err) {
      this.release(name);
      if (errnoCode(err) !== "ENOENT") this.#log.warn({ err, file: name }, "claiming an entry failed");
      return undefined;
    }
    if (entry.name !== undefined) return { name };
    const hex = entry.raw.toString("hex");
    const refuse = new TendError(
      "TEND_E_INBOX_UNDECODABLE_NAME",
      `An inbox entry's name is not valid UTF-8 (hex ${hex}); it was moved to the failed folder as ${name}. Producers must use UTF-8 names.`,
      { details: { rawHex: hex, standIn: name } },
    );
    return { name, refuse };
  }

  /**
   * Hands `name` back to the inbox without ever replacing a newer file of that name there. True when
   * handed back (and released); false when the name is taken and the file stays here.
   */
  async handBack(name: string): Promise<boolean> {
    const back = await moveNoClobber(join(this.path, name), join(this.#inbox, name)).catch(() => false);
    if (back) this.release(name);
    return back;
  }

  async #changedSince(name: string, settled: FileSignature): Promise<boolean> {
    const st = await lstat(join(this.path, name)).catch(() => undefined);
    if (st === undefined || sameSignature(settled, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }))
      return false;
    if (!(await this.handBack(name))) return false; // a newer file took the name: process this one as it is
    this.#log.debug({ file: name }, "file changed while being claimed; handed back to settle again");
    return true;
  }

  /**
   * A claim's ENOENT normally means another inbox took the file; it can also mean that something
   * deleted this folder (or its parent). True when the folder is still there; when it is not, the
   * claim reports "folder-missing" and the inbox's folder guard recreates it.
   */
  async #intact(): Promise<boolean> {
    try {
      return (await lstat(this.path)).isDirectory();
    } catch {
      return false;
    }
  }
}
