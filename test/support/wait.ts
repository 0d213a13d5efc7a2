import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `check` until it returns a truthy value and returns it; fails after `timeoutMs` with
 * `message`. For conditions that have no event to await (a row in another process's database,
 * a file another process wrote). Polling is not a fixed sleep: it ends as soon as the condition holds.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  {
    timeoutMs = 10_000,
    intervalMs = 10,
    message = "condition",
  }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}`, { cause: last });
    }
    await sleep(intervalMs);
  }
}
