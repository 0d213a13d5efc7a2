import { MAX_DELAY_MS } from "../../jobs/index.ts";
import { parseDuration } from "../../lifecycle/index.ts";

/**
 * Pure: the cutoff of a `prune --older-than <duration>` command: `now` less the duration, as a
 * Date. The duration must be at most a hundred years (36500d), so that the cutoff is
 * a valid Date: anything else throws TEND_E_INVALID_DURATION naming the flag, the value given and
 * the bound (instead of an invalid Date that the store refuses as "got null").
 *
 * @example
 * ```ts
 * pruneCutoff("7d", "--older-than", Date.parse("2025-01-08T00:00:00Z")); // 2025-01-01T00:00:00Z
 * pruneCutoff("99999999999999999d", "--older-than"); // throws: ... up to 36500d ...
 * ```
 */
export function pruneCutoff(olderThan: string, flag = "--older-than", now = Date.now()): Date {
  return new Date(now - parseDuration(olderThan, flag, { max: MAX_DELAY_MS }));
}
