import { setTimeout as sleep } from "node:timers/promises";
import type { DatabaseSync } from "node:sqlite";
import { TendError } from "../../errors/index.ts";

/*
 * Waiting for another process's write lock without blocking the event loop. node:sqlite is
 * synchronous: with a busy timeout, a statement that meets another connection's write lock sleeps
 * inside the event loop until the lock is free (seconds under contention, when other processes
 * keep taking it), and the process can neither renew its leases nor run its handlers meanwhile.
 * So tend's connections try the lock without waiting (busy timeout 0 for lock attempts) and, when
 * it is held, try again on a timer with backoff and jitter.
 */

/** SQLite's primary result code for "the database file is locked" (SQLITE_BUSY). */
const SQLITE_BUSY = 5;

/** The first wait after a busy answer, and the longest, in ms. */
const FIRST_WAIT_MS = 1;
const MAX_WAIT_MS = 16;

/**
 * Pure: true when `err` is node:sqlite's SQLITE_BUSY (any extended code): another connection holds
 * the lock, nothing of the statement was applied, and trying again later is safe.
 *
 * @example
 * ```ts
 * if (isBusy(err)) retryLater();
 * ```
 */
export function isBusy(err: unknown): boolean {
  if (err === null || typeof err !== "object") return false;
  const code = (err as { errcode?: unknown }).errcode;
  return typeof code === "number" && (code & 0xff) === SQLITE_BUSY;
}

/**
 * Pure: how long to wait before the `tries`-th new attempt at a busy lock (tries from 1): doubling
 * from 1 ms up to 16 ms, times a jitter factor in [0.5, 1.5) from `random` in [0, 1), so that
 * processes that met each other do not retry in step.
 *
 * @example
 * ```ts
 * busyRetryDelay(1, 0.5); // 1
 * busyRetryDelay(10, 0.5); // 16
 * ```
 */
export function busyRetryDelay(tries: number, random: number): number {
  const base = Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** Math.max(0, Math.min(tries - 1, 10)));
  return base * (0.5 + random);
}

/**
 * The TendError for a write that could not take the file's write lock within `timeoutMs`
 * (TEND_E_STORE_TIMEOUT; `cause` is SQLite's last busy error).
 *
 * @example
 * ```ts
 * throw lockTimeout("a job write", 10_000, err);
 * ```
 */
export function lockTimeout(what: string, timeoutMs: number, cause: unknown): TendError {
  return new TendError(
    "TEND_E_STORE_TIMEOUT",
    `${what} waited ${timeoutMs} ms for the SQLite write lock, which other connections kept holding (the busy timeout, busyTimeoutMs). Look for a process holding a long write transaction on this file.`,
    { cause, details: { timeoutMs } },
  );
}

/**
 * Runs `fn` (a synchronous statement or transaction start that applies nothing when it meets a
 * busy lock) until it does not throw SQLITE_BUSY, waiting between attempts on a timer, never in
 * the event loop; after `timeoutMs` of busy answers, rejects with TEND_E_STORE_TIMEOUT.
 *
 * @example
 * ```ts
 * await retryWhileBusy(() => db.exec("BEGIN IMMEDIATE"), 10_000, "a converger transaction");
 * ```
 */
export async function retryWhileBusy<T>(fn: () => T, timeoutMs: number, what: string): Promise<T> {
  const started = Date.now();
  for (let tries = 1; ; tries++) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
      if (Date.now() - started >= timeoutMs) throw lockTimeout(what, timeoutMs, err);
      await sleep(busyRetryDelay(tries, Math.random()));
    }
  }
}

/**
 * Runs `fn` on `db` with the busy timeout at 0 (a lock held elsewhere answers SQLITE_BUSY at once
 * instead of sleeping in the event loop), then sets it back to `restoreMs`.
 *
 * @example
 * ```ts
 * await retryWhileBusy(() => withoutBusyWait(db, 50, () => applyMigrations(db, ...)), 10_000, "Migrating");
 * ```
 */
export function withoutBusyWait<T>(db: DatabaseSync, restoreMs: number, fn: () => T): T {
  db.exec("PRAGMA busy_timeout = 0");
  try {
    return fn();
  } finally {
    if (db.isOpen) db.exec(`PRAGMA busy_timeout = ${restoreMs}`);
  }
}
