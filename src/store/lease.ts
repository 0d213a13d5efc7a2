/**
 * Leadership of one converger across processes and machines: a lease row (holder, fencing
 * epoch, expiry). These are the pure decisions that each driver applies atomically.
 */

/** The lease row as read from the store. Times are ms since the epoch on the store's clock. */
export interface LeaseState {
  holder: string;
  epoch: number;
  expiresAt: number;
}

/** What to do with the lease. */
export type LeaseDecision =
  | { kind: "acquire"; epoch: number; expiresAt: number }
  | { kind: "renew"; epoch: number; expiresAt: number }
  | { kind: "wait"; holder: string; expiresAt: number };

/**
 * Pure: given the current lease row (or none), decide whether `me` may take or keep it at time
 * `now`. A free or expired lease is taken with the next epoch (fencing out the old holder);
 * a live lease of mine is renewed with the same epoch; a live lease of another is waited for.
 *
 * @example
 * ```ts
 * decideLease(null, "a", 1000, 15000); // { kind: "acquire", epoch: 1, expiresAt: 16000 }
 * decideLease({ holder: "b", epoch: 3, expiresAt: 900 }, "a", 1000, 15000); // acquire, epoch 4
 * decideLease({ holder: "b", epoch: 3, expiresAt: 9000 }, "a", 1000, 15000); // wait
 * ```
 */
export function decideLease(
  current: LeaseState | null,
  me: string,
  now: number,
  ttlMs: number,
): LeaseDecision {
  if (current === null) return { kind: "acquire", epoch: 1, expiresAt: now + ttlMs };
  const live = current.expiresAt > now;
  if (live && current.holder === me) return { kind: "renew", epoch: current.epoch, expiresAt: now + ttlMs };
  if (live) return { kind: "wait", holder: current.holder, expiresAt: current.expiresAt };
  return { kind: "acquire", epoch: current.epoch + 1, expiresAt: now + ttlMs };
}

/**
 * Pure: whether `me` holds the lease with `epoch` at `now` (the fencing check made before
 * recording anything).
 *
 * @example
 * ```ts
 * holdsLease({ holder: "a", epoch: 2, expiresAt: 5000 }, "a", 2, 4000); // true
 * holdsLease({ holder: "a", epoch: 2, expiresAt: 5000 }, "a", 1, 4000); // false: fenced out
 * ```
 */
export function holdsLease(current: LeaseState | null, me: string, epoch: number, now: number): boolean {
  return current !== null && current.holder === me && current.epoch === epoch && current.expiresAt > now;
}
