import { invalidArgument, isTendError, rejectUnknownKeys, TendError } from "../errors/index.ts";
import { ENQUEUE_ITEM_KEYS, type EnqueueItem } from "./enqueue.ts";

/**
 * Builds one value per item of an `enqueueMany` or `batch` list, checking each item on the way:
 * an object, with no unknown key. Items are a hot path (thousands a call), so their options are not
 * all read up front; when building an item throws something other than a TendError (a getter or a
 * Proxy trap that throws), the item is read again to report it as `TEND_E_UNREADABLE_OPTIONS`
 * naming the item. A list whose length or items cannot be read (a Proxy whose trap throws) is
 * reported the same way.
 *
 * @example
 * ```ts
 * const jobs = buildItems("enqueueMany", items, (item, i) => buildNewJob(item.kind, item.payload, item, ...));
 * ```
 */
export function buildItems<T>(
  call: string,
  items: readonly EnqueueItem[],
  build: (item: EnqueueItem, index: number) => T,
): T[] {
  const out: T[] = [];
  const length = itemCount(call, items);
  for (let i = 0; i < length; i++) {
    const where = (): string => `${call} items[${i}]`;
    const item: unknown = readList(call, `items[${i}]`, () => items[i]);
    if (item === null || typeof item !== "object")
      throw invalidArgument("TEND_E_INVALID_JOB_OPTIONS", `items[${i}]`, item, "{ kind, payload, ... }");
    rejectUnknownKeys(where, item, ENQUEUE_ITEM_KEYS, undefined, false);
    try {
      out.push(build(item as EnqueueItem, i));
    } catch (err) {
      // Reading every option of the item again throws TEND_E_UNREADABLE_OPTIONS when that is
      // what failed; otherwise the original error stands.
      if (!isTendError(err)) rejectUnknownKeys(where, item, ENQUEUE_ITEM_KEYS);
      throw err;
    }
  }
  return out;
}

/**
 * The length of an `enqueueMany` or `batch` list, as TEND_E_UNREADABLE_OPTIONS when it cannot be
 * read (a Proxy whose trap throws).
 *
 * @example
 * ```ts
 * if (itemCount("enqueueMany", items) === 0) return [];
 * ```
 */
export function itemCount(call: string, items: readonly EnqueueItem[]): number {
  return readList(call, "items", () => items.length);
}

function readList<T>(call: string, what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    const name = `${call} ${what}`;
    throw new TendError(
      "TEND_E_UNREADABLE_OPTIONS",
      `Invalid ${name}: it could not be read (${err instanceof Error ? err.message : "a non-Error was thrown"}); expected a plain array of { kind, payload, ... }.`,
      { details: { name, expected: "a plain array of { kind, payload, ... }" }, cause: err },
    );
  }
}
