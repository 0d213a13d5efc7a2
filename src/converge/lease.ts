/**
 * Leadership of one converger across processes and machines: a lease row (holder, fencing
 * epoch, expiry). The decision to take, keep or wait for a lease is the store's (store/lease.ts,
 * applied atomically by each driver); these are the holder's timing decisions.
 */
import type { LeaseDecision } from "../store/index.ts";

/**
 * Pure: the local time after which a holder must consider its lease lost when it has not renewed
 * since `lastRenewStartedAt` (local ms, taken before sending the renewal): a margin of a fifth of
 * the TTL (at least 50 ms) covers clock rate differences and the renewal's own latency.
 *
 * @example
 * ```ts
 * leaseDeadline(10_000, 15_000); // 22_000
 * ```
 */
export function leaseDeadline(lastRenewStartedAt: number, ttlMs: number): number {
  return lastRenewStartedAt + ttlMs - Math.max(50, Math.floor(ttlMs / 5));
}

/**
 * Pure: how long a holder waits between renewals (a third of the TTL), and how long a
 * non-holder waits before trying again (until the lease expires, at most a third of the TTL).
 *
 * @example
 * ```ts
 * leaseRetryMs({ kind: "renew", epoch: 1, expiresAt: 0 }, 0, 15000); // 5000
 * ```
 */
export function leaseRetryMs(decision: LeaseDecision, now: number, ttlMs: number): number {
  const third = Math.max(10, Math.floor(ttlMs / 3));
  if (decision.kind !== "wait") return third;
  return Math.max(10, Math.min(third, decision.expiresAt - now + 1));
}
