import type { Store, TerminalKey } from "../store/index.ts";

/**
 * The notification channel on which a cleared parked key is announced (payload: the converger's
 * name), so that the converger's leader runs it again at once instead of at its next term.
 */
export const PARKED_CHANNEL = "converge.parked";

/**
 * Lists parked keys (keys whose `converge` threw a TerminalError, not retried until they change):
 * of one converger, or of all; oldest first.
 *
 * @example
 * ```ts
 * for (const k of await listParkedKeys(store, "archive-account-resources")) console.log(k.key, k.message);
 * ```
 */
export function listParkedKeys(store: Store, converger?: string): Promise<TerminalKey[]> {
  return store.converge.listTerminal(converger);
}

/**
 * Clears parked keys: one key of a converger, or all of its keys (`key` null). The converger's
 * leader, in whichever process, is notified and runs the cleared keys again at once. Returns how
 * many were cleared.
 *
 * @example
 * ```ts
 * await clearParkedKeys(store, "archive-account-resources", "42"); // 1
 * ```
 */
export async function clearParkedKeys(store: Store, converger: string, key: string | null): Promise<number> {
  const cleared = await store.converge.clearTerminal(converger, key);
  if (cleared > 0) await store.notifier.notify(PARKED_CHANNEL, converger).catch(() => {});
  return cleared;
}
