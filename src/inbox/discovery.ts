import { type Dirent, type FSWatcher, lstat, type Stats, watch } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log/index.ts";
import { errnoCode } from "./folders.ts";
import { decodeName, isTemporaryName } from "./names.ts";
import { readPlaceholder } from "./placeholder.ts";
import { type FileSignature, msUntilSettled, observeFile, type SettleState } from "./settle.ts";

/** What discovery needs from its inbox. */
export interface DiscoveryOptions {
  readonly dir: string;
  readonly match: (name: string) => boolean;
  readonly settleMs: number;
  readonly watch: boolean;
  readonly log: Logger;
  /** True for names this inbox is processing right now (left alone until done). */
  readonly busy: (name: string) => boolean;
  /** Called when new work is ready. */
  readonly onReady: () => void;
  /** Called with the number of entries ready to claim whenever it may have changed. */
  readonly onBacklog?: (ready: number) => void;
  /** Called instead of a warning when a scan finds the inbox folder missing (ENOENT, ENOTDIR). */
  readonly onFolderMissing?: () => void;
}

/** An inbox entry that is not a regular file, or whose name is not valid UTF-8: failed, not processed. */
export interface StrangeEntry {
  /** The raw name bytes (use as a Buffer path). */
  readonly raw: Buffer;
  /** The decoded name, when the bytes are valid UTF-8. */
  readonly name: string | undefined;
}

const lstatAsync = (path: string) =>
  new Promise<Stats>((resolve, reject) => lstat(path, (err, st) => (err ? reject(err) : resolve(st))));

/**
 * Finds files to claim in the inbox folder. A full scan (at start and on every rescan) is the
 * truth; file-system events are hints that make a scan of the named file happen at once. A file
 * becomes ready when its name is neither temporary nor a dot name, it matches, it is a regular file
 * and it has been stable for the settle time; ready names come out of {@link Discovery.next} oldest
 * discovery first.
 */
export class Discovery {
  readonly #o: DiscoveryOptions;
  readonly #ready = new Set<string>();
  readonly #strange = new Map<string, StrangeEntry>();
  readonly #settle = new Map<string, SettleState>();
  readonly #hints = new Set<string>();
  /** When each candidate name was first seen (ms since epoch), until it is taken or disappears. */
  readonly #firstSeen = new Map<string, number>();
  #full = false;
  #running: Promise<void> | undefined;
  #watcher: FSWatcher | undefined;
  #settleTimer: NodeJS.Timeout | undefined;
  #settleDue = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(options: DiscoveryOptions) {
    this.#o = options;
  }

  /** Starts watching for events (if enabled). */
  start(): void {
    if (!this.#o.watch) return;
    try {
      this.#watcher = watch(this.#o.dir, { persistent: true, encoding: "utf8" }, (_event, filename) => {
        if (typeof filename === "string" && filename !== "") this.hint(filename);
        else this.requestFullScan();
      });
      this.#watcher.on("error", (err) => {
        this.#o.log.warn({ err }, "file events for the inbox stopped; relying on the periodic rescan");
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch (err) {
      this.#o.log.warn({ err }, "file events for the inbox are unavailable; relying on the periodic rescan");
    }
  }

  /** Watches the folder again (after it was deleted and recreated, the old watch sees nothing). */
  restartWatch(): void {
    if (this.#closed) return;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.start();
  }

  /** Stops events and timers. */
  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#settleTimer !== undefined) clearTimeout(this.#settleTimer);
  }

  /** Asks for a full scan of the folder. */
  requestFullScan(): void {
    this.#full = true;
    this.#kick();
  }

  /** Asks for a look at one name (from an event). */
  hint(name: string): void {
    if (isTemporaryName(name)) return;
    this.#hints.add(name);
    this.#kick();
  }

  /** Resolves when no scan is under way. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Takes the next strange entry to fail, if any. */
  nextStrange(): StrangeEntry | undefined {
    for (const [key, entry] of this.#strange) {
      this.#strange.delete(key);
      return entry;
    }
    return undefined;
  }

  /**
   * Takes the next ready name, if any, with the signature it settled at (none with settle 0); it
   * is forgotten (the claim decides what happens next).
   */
  next(): { name: string; settled: FileSignature | undefined } | undefined {
    for (const name of this.#ready) {
      this.#ready.delete(name);
      this.#firstSeen.delete(name);
      const settled = this.#settle.get(name)?.sig;
      this.#settle.delete(name);
      if (this.#o.busy(name)) continue;
      this.#o.onBacklog?.(this.readyCount);
      return { name, settled };
    }
    return undefined;
  }

  /** When the oldest name ready to claim was first seen (ms since epoch), or null. */
  oldestReadySince(): number | null {
    let oldest: number | null = null;
    for (const name of this.#ready) {
      const seen = this.#firstSeen.get(name);
      if (seen !== undefined && (oldest === null || seen < oldest)) oldest = seen;
    }
    return oldest;
  }

  #seen(name: string, now: number): void {
    if (!this.#firstSeen.has(name)) this.#firstSeen.set(name, now);
  }

  /** Number of names ready to claim. */
  get readyCount(): number {
    return this.#ready.size + this.#strange.size;
  }

  #kick(): void {
    if (this.#closed || this.#running !== undefined) return;
    this.#running = this.#pump().finally(() => {
      this.#running = undefined;
    });
  }

  async #pump(): Promise<void> {
    await Promise.resolve();
    while (!this.#closed && (this.#full || this.#hints.size > 0)) {
      const before = this.readyCount;
      try {
        if (this.#full) {
          this.#full = false;
          this.#hints.clear();
          await this.#scanAll();
        } else {
          const names = [...this.#hints];
          this.#hints.clear();
          for (const name of names) await this.#look(name);
        }
      } catch (err) {
        const code = errnoCode(err);
        if ((code === "ENOENT" || code === "ENOTDIR") && this.#o.onFolderMissing !== undefined) {
          this.#o.onFolderMissing();
        } else {
          this.#o.log.warn(
            { err, dir: this.#o.dir },
            "scanning the inbox folder failed; will retry at the next rescan",
          );
        }
      }
      this.#o.onBacklog?.(this.readyCount);
      if (this.readyCount > before) this.#o.onReady();
    }
  }

  async #scanAll(): Promise<void> {
    const entries = (await readdir(this.#o.dir, {
      withFileTypes: true,
      encoding: "buffer",
    })) as Dirent<Buffer>[];
    const seen = new Set<string>();
    const now = Date.now();
    for (const entry of entries) {
      const name = decodeName(entry.name);
      if (name === undefined) {
        if (!entry.isDirectory())
          this.#strange.set(`raw:${entry.name.toString("hex")}`, { raw: entry.name, name });
        continue;
      }
      seen.add(name);
      if (isTemporaryName(name) || entry.isDirectory() || !this.#o.match(name) || this.#o.busy(name))
        continue;
      this.#seen(name, now);
      if (this.#ready.has(name)) continue;
      const known = entry.isFile() || entry.isSymbolicLink() || entry.isFIFO() || entry.isSocket();
      if (entry.isFile() && this.#o.settleMs === 0) {
        this.#ready.add(name);
        continue;
      }
      if (!known && !entry.isBlockDevice() && !entry.isCharacterDevice()) {
        await this.#look(name); // type unknown on this filesystem: lstat it
        continue;
      }
      if (!entry.isFile()) {
        if (entry.isSymbolicLink() && (await isPlaceholder(join(this.#o.dir, name)))) continue;
        this.#strange.set(name, { raw: entry.name, name });
        continue;
      }
      await this.#observe(name, now);
    }
    for (const name of this.#settle.keys()) if (!seen.has(name)) this.#settle.delete(name);
    for (const name of this.#ready) if (!seen.has(name)) this.#ready.delete(name);
    for (const name of this.#firstSeen.keys()) if (!seen.has(name)) this.#firstSeen.delete(name);
  }

  async #look(name: string): Promise<void> {
    if (isTemporaryName(name) || !this.#o.match(name) || this.#o.busy(name) || this.#ready.has(name)) return;
    let st: Stats;
    try {
      st = await lstatAsync(join(this.#o.dir, name));
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw err;
      this.#settle.delete(name);
      this.#firstSeen.delete(name);
      return;
    }
    if (st.isDirectory()) return;
    this.#seen(name, Date.now());
    if (!st.isFile()) {
      if (st.isSymbolicLink() && (await isPlaceholder(join(this.#o.dir, name)))) return;
      this.#strange.set(name, { raw: Buffer.from(name), name });
      return;
    }
    this.#consider(name, st, Date.now());
  }

  async #observe(name: string, now: number): Promise<void> {
    let st: Stats;
    try {
      st = await lstatAsync(join(this.#o.dir, name));
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    if (st.isFile()) this.#consider(name, st, now);
  }

  #consider(name: string, st: Stats, now: number): void {
    const state = observeFile(
      this.#settle.get(name),
      { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino },
      now,
    );
    this.#settle.set(name, state);
    const wait = msUntilSettled(state, this.#o.settleMs, now);
    if (wait <= 0) {
      this.#ready.add(name);
      return;
    }
    this.#wakeIn(name, wait);
  }

  #wakeIn(name: string, ms: number): void {
    this.#pendingSettle.add(name);
    const due = Date.now() + ms;
    if (due >= this.#settleDue) return;
    if (this.#settleTimer !== undefined) clearTimeout(this.#settleTimer);
    this.#settleDue = due;
    this.#settleTimer = setTimeout(() => {
      this.#settleTimer = undefined;
      this.#settleDue = Number.POSITIVE_INFINITY;
      const names = [...this.#pendingSettle];
      this.#pendingSettle.clear();
      for (const n of names) this.hint(n);
    }, ms + 1);
  }

  readonly #pendingSettle = new Set<string>();
}

/**
 * Whether the symbolic link at `path` is a placeholder: another inbox is moving a file onto that
 * name right now (see placeholder.ts), so there is nothing to claim yet.
 */
async function isPlaceholder(path: string): Promise<boolean> {
  return (await readPlaceholder(path)) !== undefined;
}
