import type { DatabaseSync } from "node:sqlite";
import { writeTransaction } from "./context.ts";

interface Pending {
  fn: () => unknown;
  /** True when losing this write to a power cut is harmless (a claim or heartbeat: the job simply runs again). */
  relaxed: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/**
 * Group commit for one SQLite connection: writes requested during one turn of the event loop run
 * together in one `BEGIN IMMEDIATE` transaction, each inside its own savepoint (a write that
 * throws rolls back alone), so that many small writes share one commit and one fsync. Each write's
 * promise settles only after the shared COMMIT, so nothing is acknowledged before it is durable.
 * node:sqlite is synchronous: without this, a burst of completions from concurrent handlers would
 * pay one fsync each.
 *
 * Claims and heartbeats are "relaxed": a group made only of them commits with
 * `synchronous=NORMAL` (atomic and safe against a killed process in WAL mode, but the last such
 * commits can be lost if the machine loses power), and becomes durable with the next full commit.
 * Losing one costs nothing that at-least-once delivery does not already allow: a lost claim makes
 * the job available again and it runs again, exactly as a claim whose worker died would; a lost
 * heartbeat only shortens a lease. Every other write (enqueue, complete, fail, cancel, retry,
 * release, rescue, cron) waits for the configured level (FULL by default) before it resolves.
 *
 * @example
 * ```ts
 * const group = new GroupCommit(db, "FULL");
 * const [a, b] = await Promise.all([group.run(() => insertOne()), group.run(() => insertTwo())]);
 * ```
 */
export class GroupCommit {
  readonly #db: DatabaseSync;
  readonly #maxOps: number;
  readonly #durable: "FULL" | "NORMAL";
  #current: "FULL" | "NORMAL";
  #queue: Pending[] = [];
  #scheduled: { cancel(): void } | undefined;
  /** Caller transactions in this process that hold the write lock: our writes wait for them. */
  readonly #blockers = new Set<() => boolean>();

  constructor(db: DatabaseSync, synchronous: "FULL" | "NORMAL", maxOps = 500) {
    this.#db = db;
    this.#maxOps = maxOps;
    this.#durable = synchronous;
    this.#current = synchronous;
  }

  /** Sets the connection's synchronous level for the next commit (cheap; only when it changes). */
  #sync(level: "FULL" | "NORMAL"): void {
    if (level === this.#current) return;
    this.#db.exec(`PRAGMA synchronous = ${level}`);
    this.#current = level;
  }

  /**
   * Runs `fn` in the next group transaction; resolves with its result once committed. A group made
   * only of `relaxed` writes commits without waiting for fsync (see the class comment).
   */
  run<T>(fn: () => T, relaxed = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, relaxed, resolve: resolve as (value: unknown) => void, reject });
      if (this.#scheduled === undefined) this.#schedule(false);
    });
  }

  /**
   * Holds queued writes back while `blocked()` returns true: a transaction in this process (a
   * caller's handle that enqueued, or the store's own handle inside the caller's BEGIN) holds the
   * write lock, and taking it here would block the event loop until the busy timeout, so the
   * caller could never commit. Dropped once it returns false.
   */
  deferWhile(blocked: () => boolean): void {
    this.#blockers.add(blocked);
  }

  #schedule(later: boolean): void {
    if (later) {
      const timer = setTimeout(() => this.#tick(), 1);
      this.#scheduled = { cancel: () => clearTimeout(timer) };
    } else {
      const immediate = setImmediate(() => this.#tick());
      this.#scheduled = { cancel: () => clearImmediate(immediate) };
    }
  }

  #blocked(): boolean {
    if (this.#db.isOpen && this.#db.isTransaction) return true;
    for (const blocked of [...this.#blockers]) {
      let still = false;
      try {
        still = blocked();
      } catch {
        still = false;
      }
      if (still) return true;
      this.#blockers.delete(blocked);
    }
    return false;
  }

  #tick(): void {
    this.#scheduled = undefined;
    if (this.#queue.length === 0) return;
    if (this.#blocked()) this.#schedule(true);
    else this.flush();
  }

  /** Runs every queued write now (also used before close, whatever holds the lock). */
  flush(): void {
    this.#scheduled?.cancel();
    this.#scheduled = undefined;
    while (this.#queue.length > 0) this.#commit(this.#queue.splice(0, this.#maxOps));
  }

  #commit(batch: Pending[]): void {
    const relaxed = batch.every((p) => p.relaxed);
    try {
      if (relaxed) this.#sync("NORMAL");
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    try {
      this.#commitGroup(batch);
    } finally {
      // Back to the configured level at once: other users of the connection (raw.writeTransaction) expect it.
      if (relaxed) {
        try {
          this.#sync(this.#durable);
        } catch {
          this.#current = "NORMAL";
        }
      }
    }
  }

  #commitGroup(batch: Pending[]): void {
    const db = this.#db;
    if (batch.length === 1) {
      const only = batch[0]!;
      try {
        only.resolve(writeTransaction(db, only.fn));
      } catch (err) {
        only.reject(err);
      }
      return;
    }
    const outcomes: Outcome[] = [];
    try {
      db.exec("BEGIN IMMEDIATE");
      for (const p of batch) {
        db.exec("SAVEPOINT tend_op");
        try {
          const value = p.fn();
          db.exec("RELEASE tend_op");
          outcomes.push({ ok: true, value });
        } catch (err) {
          db.exec("ROLLBACK TO tend_op");
          db.exec("RELEASE tend_op");
          outcomes.push({ ok: false, err });
        }
      }
      db.exec("COMMIT");
    } catch (err) {
      // BEGIN (busy), a savepoint statement or COMMIT failed: nothing of this group was written.
      try {
        if (db.isOpen && db.isTransaction) db.exec("ROLLBACK");
      } catch {
        // The connection is unusable; each caller gets the original error below.
      }
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.err);
    });
  }
}
