import { lstat, mkdir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { TendError } from "../errors/index.ts";
import type { Logger } from "../log/index.ts";
import { errnoCode, prepareFolders } from "./folders.ts";
import type { ResolvedInboxOptions } from "./options.ts";

/** First delay between two tries to recreate missing folders. */
const FIRST_RETRY_MS = 100;
/** Longest delay between two tries. */
const MAX_RETRY_MS = 5_000;

/**
 * Pure: the delay after failed try number `step` (1-based) to recreate missing inbox folders:
 * 100 ms, doubled each step, at most 5 s. One warning is logged per step, so the log stays short.
 *
 * @example
 * ```ts
 * folderRetryDelayMs(1); // 100
 * folderRetryDelayMs(4); // 800
 * folderRetryDelayMs(20); // 5000
 * ```
 */
export function folderRetryDelayMs(step: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(Math.max(0, step - 1), 16));
}

/**
 * Watches over the folders of a running inbox (the inbox folder, processing, done, failed, output
 * and this run's claim folder). When something deleted one, {@link FolderGuard.repair} recreates
 * what is missing, as the start does, warning once per backoff step while it cannot; after
 * `folderTimeoutMs` without success it throws `TEND_E_INBOX_FOLDER_GONE`, which fails the inbox task.
 *
 * @example
 * ```ts
 * const guard = new FolderGuard(options, claimDir, log);
 * if (!(await guard.intact())) await guard.repair(signal);
 * ```
 */
export class FolderGuard {
  readonly #o: ResolvedInboxOptions;
  readonly #claimDir: string;
  readonly #log: Logger;
  /** Each folder's identity (device and inode) when it was last made or found in place. */
  readonly #ids = new Map<string, { dev: number; ino: number }>();

  constructor(o: ResolvedInboxOptions, claimDir: string, log: Logger) {
    this.#o = o;
    this.#claimDir = claimDir;
    this.#log = log;
  }

  /** The folders that must exist while the inbox runs, by role. */
  #folders(): [string, string][] {
    const o = this.#o;
    return [
      ["inbox", o.dir],
      ["processing", o.processingDir],
      ["claim", this.#claimDir],
      ["done", o.doneDir],
      ["failed", o.failedDir],
      ["output", o.outDir],
    ];
  }

  /** The roles whose folder is missing or is not a folder now. */
  async missing(): Promise<string[]> {
    const out: string[] = [];
    for (const [role, path] of this.#folders()) {
      try {
        if (!(await lstat(path)).isDirectory()) out.push(role);
      } catch (err) {
        if (errnoCode(err) !== "ENOENT" && errnoCode(err) !== "ENOTDIR") throw err;
        out.push(role);
      }
    }
    return out;
  }

  /**
   * Records each folder's identity (device and inode), for {@link FolderGuard.checkUnchanged}:
   * after the folders were prepared at start, and after each repair.
   */
  async capture(): Promise<void> {
    this.#ids.clear();
    for (const [role, path] of this.#folders()) {
      const st = await lstat(path).catch(() => undefined);
      if (st?.isDirectory() === true) this.#ids.set(role, { dev: st.dev, ino: st.ino });
    }
  }

  /**
   * Throws `TEND_E_INBOX_FOLDER_REPLACED` when one of the folders of `roles` is no longer the folder
   * {@link FolderGuard.capture} recorded: a symbolic link (which a producer able to write the inbox
   * folder could put in place of `out/`, `done/` or `failed/` to have tend write elsewhere), another
   * folder, or none. Checked right before tend renames files into them.
   */
  async checkUnchanged(roles: readonly string[]): Promise<void> {
    for (const [role, path] of this.#folders()) {
      if (!roles.includes(role)) continue;
      const known = this.#ids.get(role);
      const st = await lstat(path).catch(() => undefined);
      if (known !== undefined && st?.isDirectory() === true && st.dev === known.dev && st.ino === known.ino)
        continue;
      const now =
        st === undefined
          ? "missing"
          : st.isSymbolicLink()
            ? "a symbolic link"
            : st.isDirectory()
              ? "another folder"
              : "not a folder";
      throw new TendError(
        "TEND_E_INBOX_FOLDER_REPLACED",
        `The inbox's ${role} folder ${path} was replaced while the inbox ran (it is now ${now}); tend writes nothing through it, and the file stays claimed until the folder is put back. Make sure only tend can rename or replace the inbox's own folders (or set the ${role} folder outside the inbox folder).`,
        { details: { role, path, now } },
      );
    }
  }

  /** True when every folder is in place. */
  async intact(): Promise<boolean> {
    return (await this.missing()).length === 0;
  }

  /**
   * Recreates every missing folder, retrying with backoff until it succeeds (resolves), `signal`
   * aborts (resolves) or `folderTimeoutMs` has passed (throws `TEND_E_INBOX_FOLDER_GONE`).
   */
  async repair(signal: AbortSignal): Promise<void> {
    const started = Date.now();
    const missing = await this.missing().catch(() => ["unknown"]);
    if (missing.length === 0) return;
    for (let step = 1; ; step++) {
      let failure: unknown;
      try {
        await prepareFolders(this.#o);
        await mkdir(this.#claimDir, { recursive: true });
        if (await this.intact()) {
          await this.capture();
          this.#log.warn(
            { missing, dir: this.#o.dir, claimDir: this.#claimDir, tries: step },
            `inbox folders were deleted while the inbox ran (${missing.join(", ")}); recreated them and resumed. Do not delete inbox folders while inboxes run`,
          );
          return;
        }
      } catch (err) {
        failure = err;
      }
      const elapsed = Date.now() - started;
      const timeoutMs = this.#o.folderTimeoutMs;
      if (elapsed >= timeoutMs) throw this.#gone(missing, elapsed, failure);
      const delay = Math.min(folderRetryDelayMs(step), timeoutMs - elapsed);
      this.#log.warn(
        { err: failure, missing, dir: this.#o.dir, retryInMs: delay, giveUpInMs: timeoutMs - elapsed },
        `inbox folders are missing (${missing.join(", ")}) and cannot be recreated yet; processing is paused, retrying`,
      );
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        return;
      }
    }
  }

  #gone(missing: string[], elapsedMs: number, cause: unknown): TendError {
    const o = this.#o;
    const why = cause instanceof Error ? ` (${cause.message})` : "";
    return new TendError(
      "TEND_E_INBOX_FOLDER_GONE",
      `Inbox folders were deleted while the inbox ran (${missing.join(", ")}) and could not be recreated for ${elapsedMs} ms${why}; the inbox stopped. Make sure ${o.dir} can be a folder again (not a file, writable), then start the program again.`,
      {
        details: { missing, dir: o.dir, claimDir: this.#claimDir, folderTimeoutMs: o.folderTimeoutMs },
        cause,
      },
    );
  }
}
