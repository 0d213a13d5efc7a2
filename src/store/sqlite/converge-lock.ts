import { AsyncLocalStorage } from "node:async_hooks";

/**
 * One SQLite file's converge-side write section in this process. node:sqlite is synchronous: if
 * this process held a write transaction open on one connection across an `await` while another
 * of its connections waited synchronously for the write lock, the event loop would stall until
 * the busy timeout. So the convergers' user transactions and the converge store's own writes to
 * one file take turns through this lock (re-entrant within one section).
 */
export class FileLock {
  // Example: `await new FileLock().run(() => db.exec("..."))` (use fileLock(path) to share one per file).
  #tail: Promise<unknown> = Promise.resolve();
  readonly #inside = new AsyncLocalStorage<true>();

  /** Runs `fn` alone among this file's converge-side sections (at once when already inside one). */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.#inside.getStore() === true) return Promise.resolve().then(fn);
    const next = this.#tail.then(
      () => this.#inside.run(true, fn),
      () => this.#inside.run(true, fn),
    );
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

const locks = new Map<string, FileLock>();

/**
 * The lock of one database file (by absolute path), shared by every store of this process.
 *
 * @example
 * ```ts
 * await fileLock("/srv/app/var/tend.db").run(() => db.prepare(sql).run());
 * ```
 */
export function fileLock(path: string): FileLock {
  let lock = locks.get(path);
  if (lock === undefined) {
    lock = new FileLock();
    locks.set(path, lock);
  }
  return lock;
}
