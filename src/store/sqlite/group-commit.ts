import type { DatabaseSync } from "node:sqlite";
import { busyRetryDelay, isBusy, lockTimeout } from "./lock-wait.ts";

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
 * The write lock is tried without waiting (busy timeout 0 for the `BEGIN IMMEDIATE` only): when
 * another process holds it, the group stays queued and is tried again on a timer with backoff and
 * jitter (see lock-wait.ts), so that the event loop never sleeps on the file lock; writes that
 * arrive meanwhile join the group. After `busyTimeoutMs` of busy answers the waiting writes fail
 * with TEND_E_STORE_TIMEOUT. Writes held back behind a transaction of this process (see
 * {@link GroupCommit.deferWhile}) wait for its end, however long; past `busyTimeoutMs` the wait is
 * reported to `onLongWait` (then again every `busyTimeoutMs`).
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
  readonly #busyTimeoutMs: number;
  readonly #readBusyMs: number;
  #current: "FULL" | "NORMAL";
  #queue: Pending[] = [];
  #scheduled: { cancel(): void } | undefined;
  /** When the current run of busy answers started (ms), and how many there were. */
  #busySince: number | null = null;
  #busyTries = 0;
  /** Caller transactions in this process that hold the write lock: our writes wait for them. */
  readonly #blockers = new Set<() => boolean>();
  /** Since when (ms) queued writes have waited for a transaction of this process, if they do. */
  #blockedSince: number | null = null;
  /** When (ms) to tell {@link GroupCommit} `onLongWait` next about that wait. */
  #blockedWarnAt: number | null = null;
  readonly #onLongWait: ((waitedMs: number, writes: number) => void) | undefined;

  /**
   * `busyTimeoutMs`: how long queued writes wait for the write lock before failing;
   * `readBusyMs`: the connection's busy timeout outside lock attempts (for its reads), restored
   * after each `BEGIN IMMEDIATE`.
   */
  constructor(
    db: DatabaseSync,
    synchronous: "FULL" | "NORMAL",
    {
      maxOps = 500,
      busyTimeoutMs = 10_000,
      readBusyMs = 0,
      onLongWait,
    }: {
      maxOps?: number;
      busyTimeoutMs?: number;
      readBusyMs?: number;
      /** Told when writes have waited a busy timeout (and each one after) for a transaction of this process. */
      onLongWait?: (waitedMs: number, writes: number) => void;
    } = {},
  ) {
    this.#onLongWait = onLongWait;
    this.#db = db;
    this.#maxOps = maxOps;
    this.#durable = synchronous;
    this.#current = synchronous;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#readBusyMs = readBusyMs;
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
      if (this.#scheduled === undefined) this.#schedule(0);
    });
  }

  /**
   * Holds queued writes back while `blocked()` returns true: a transaction in this process (a
   * caller's handle that enqueued, or the store's own handle inside the caller's BEGIN) holds the
   * write lock, so taking it here could not succeed before that transaction ends. Dropped once it
   * returns false.
   */
  deferWhile(blocked: () => boolean): void {
    this.#blockers.add(blocked);
  }

  /** Schedules the next attempt: at once (0: setImmediate, grouping this turn's writes) or after `ms`. */
  #schedule(ms: number): void {
    if (ms > 0) {
      const timer = setTimeout(() => this.#tick(), ms);
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
    if (this.#queue.length === 0) {
      this.#blockedSince = null;
      return;
    }
    if (this.#blocked()) {
      // A transaction of this process holds the lock: the writes wait for its end, however long
      // (failing them would throw away the worker's completions and heartbeats, whose jobs would
      // then run again, while no other process can write meanwhile either). A caller that awaits
      // one of these writes inside that very transaction would wait forever: said in the log once
      // the wait passes the busy timeout, and again every busy timeout after.
      const now = Date.now();
      this.#blockedSince ??= now;
      this.#blockedWarnAt ??= now + this.#busyTimeoutMs;
      if (now >= this.#blockedWarnAt) {
        this.#blockedWarnAt = now + this.#busyTimeoutMs;
        this.#onLongWait?.(now - this.#blockedSince, this.#queue.length);
      }
      this.#schedule(1);
      return;
    }
    this.#blockedSince = null;
    this.#blockedWarnAt = null;
    this.#drain(false);
  }

  /**
   * Commits queued groups while the lock is free. On a busy lock, keeps them queued and schedules
   * another attempt (or fails them once the busy timeout is spent).
   */
  #drain(blocking: boolean): void {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxOps);
      const busy = this.#commit(batch, blocking);
      if (busy === null) {
        this.#busySince = null;
        this.#busyTries = 0;
        continue;
      }
      const now = Date.now();
      this.#busySince ??= now;
      if (now - this.#busySince >= this.#busyTimeoutMs) {
        const err = lockTimeout("A write", this.#busyTimeoutMs, busy);
        this.#busySince = null;
        this.#busyTries = 0;
        for (const p of [...batch, ...this.#queue.splice(0)]) p.reject(err);
        return;
      }
      this.#queue.unshift(...batch);
      this.#busyTries++;
      if (this.#scheduled === undefined) this.#schedule(busyRetryDelay(this.#busyTries, Math.random()));
      return;
    }
  }

  /**
   * Runs every queued write now, waiting for the lock in the event loop up to the busy timeout:
   * only for close, where nothing else is left to run (whatever this process holds).
   */
  flush(): void {
    this.#scheduled?.cancel();
    this.#scheduled = undefined;
    this.#drain(true);
    // Whatever is still queued got no lock within the busy timeout in blocking mode.
    const left = this.#queue.splice(0);
    if (left.length > 0) {
      const err = lockTimeout("A write at close", this.#busyTimeoutMs, null);
      for (const p of left) p.reject(err);
    }
  }

  /** Commits `batch`; returns SQLite's busy error (nothing done, batch untouched) when the lock was held. */
  #commit(batch: Pending[], blocking: boolean): unknown {
    const relaxed = batch.every((p) => p.relaxed);
    try {
      // A durable group sets the configured level too: a no-op unless restoring it after the
      // last relaxed group failed, in which case this commit must not run at NORMAL.
      this.#sync(relaxed ? "NORMAL" : this.#durable);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return null;
    }
    try {
      return this.#commitGroup(batch, blocking);
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

  /** `BEGIN IMMEDIATE` without waiting (or waiting up to the busy timeout when `blocking`). */
  #begin(blocking: boolean): void {
    const db = this.#db;
    db.exec(`PRAGMA busy_timeout = ${blocking ? this.#busyTimeoutMs : 0}`);
    try {
      db.exec("BEGIN IMMEDIATE");
    } finally {
      db.exec(`PRAGMA busy_timeout = ${this.#readBusyMs}`);
    }
  }

  #commitGroup(batch: Pending[], blocking: boolean): unknown {
    const db = this.#db;
    try {
      this.#begin(blocking);
    } catch (err) {
      if (isBusy(err) && !blocking) return err;
      for (const p of batch) p.reject(err);
      return null;
    }
    const outcomes: Outcome[] = [];
    const single = batch.length === 1;
    try {
      for (const p of batch) {
        if (!single) db.exec("SAVEPOINT tend_op");
        try {
          const value = p.fn();
          if (!single) db.exec("RELEASE tend_op");
          outcomes.push({ ok: true, value });
        } catch (err) {
          if (single) {
            if (db.isTransaction) db.exec("ROLLBACK");
            p.reject(err);
            return null;
          }
          db.exec("ROLLBACK TO tend_op");
          db.exec("RELEASE tend_op");
          outcomes.push({ ok: false, err });
        }
      }
      db.exec("COMMIT");
    } catch (err) {
      // A savepoint statement or COMMIT failed: nothing of this group was written.
      try {
        if (db.isOpen && db.isTransaction) db.exec("ROLLBACK");
      } catch {
        // The connection is unusable; each caller gets the original error below.
      }
      for (const p of batch) p.reject(err);
      return null;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.err);
    });
    return null;
  }
}
