import { checkString, invalidArgument } from "../errors/index.ts";
import type { Store, TerminalKey } from "../store/index.ts";
import { convergeStoreOf } from "./store.ts";

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
export async function listParkedKeys(store: Store, converger?: string): Promise<TerminalKey[]> {
  const converge = convergeStoreOf(store);
  if (converger !== undefined) checkString(CODE, "converger", converger, "a converger name (or nothing)");
  return await converge.listTerminal(converger);
}

const CODE = "TEND_E_CONVERGER_INVALID_OPTION";

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
  const converge = convergeStoreOf(store);
  checkString(CODE, "converger", converger, "a converger name");
  if (key !== null && typeof key !== "string")
    throw invalidArgument(CODE, "key", key, "a key (string), or null for all of the converger's keys");
  const cleared = await converge.clearTerminal(converger, key);
  if (cleared > 0) await store.notifier.notify(PARKED_CHANNEL, converger).catch(() => {});
  return cleared;
}
