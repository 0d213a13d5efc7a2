import { checkObject, optionKeys, rejectUnknownKeys, TendError } from "../errors/index.ts";
import type { QueueLimitsChange } from "../store/index.ts";
import { checkRateLimit, type RateLimitOptions } from "./rate-limit.ts";

/** Limits of a queue set by an operator (`jobs.setQueueLimits`, `tend queues limit`). */
export interface QueueLimitsOptions {
  /** At most this many of the queue's jobs run at once, across every process (1-10,000); null clears. */
  concurrency?: number | null;
  /** At most `limit` of the queue's jobs start per `per` window, across every process; null clears. */
  rate?: RateLimitOptions | null;
}

const CODE = "TEND_E_INVALID_QUEUE_LIMITS";
const KEYS = optionKeys<QueueLimitsOptions>({ concurrency: true, rate: true });

/**
 * Checks queue limits as given to `setQueueLimits` and converts them to the store's change (a
 * field left out is kept, null clears). TEND_E_INVALID_QUEUE_LIMITS on a bad value,
 * TEND_E_UNKNOWN_OPTION on a misspelt field.
 *
 * @example
 * ```ts
 * toQueueLimitsChange({ concurrency: 5, rate: { limit: 10, per: "1s" } }); // { concurrency: 5, rate: { limit: 10, periodMs: 1000 } }
 * ```
 */
export function toQueueLimitsChange(options: QueueLimitsOptions): QueueLimitsChange {
  checkObject(CODE, "queue limits", options);
  rejectUnknownKeys("queue limits", options, KEYS);
  const change: QueueLimitsChange = {};
  if (options.concurrency !== undefined) {
    const c = options.concurrency;
    if (c !== null && (!Number.isInteger(c) || c < 1 || c > 10_000))
      throw new TendError(
        CODE,
        `queue limits concurrency: expected an integer from 1 to 10,000 or null, got ${typeof c === "number" ? String(c) : JSON.stringify(c)}`,
        { details: { concurrency: c } },
      );
    change.concurrency = c;
  }
  if (options.rate !== undefined)
    change.rate = options.rate === null ? null : checkRateLimit(options.rate, "queue limits rate", CODE);
  return change;
}

/**
 * Parses a rate as written on the command line: `<limit>/<window>`, the window a duration (`10/1s`,
 * `600/1m`, `5/250ms`; a bare unit means one of it: `10/s`). TEND_E_INVALID_QUEUE_LIMITS otherwise.
 *
 * @example
 * ```ts
 * parseRate("10/1s"); // { limit: 10, per: "1s" }
 * ```
 */
export function parseRate(text: string): RateLimitOptions {
  const m = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(text);
  if (m === null)
    throw new TendError(
      CODE,
      `queue rate ${JSON.stringify(text)}: expected <limit>/<window>, like 10/1s or 600/1m`,
      {
        details: { rate: text },
      },
    );
  const per = /^[a-z]/i.test(m[2]!) ? `1${m[2]!}` : m[2]!;
  const limit = Number(m[1]);
  checkRateLimit({ limit, per }, "queue limits rate", CODE);
  return { limit, per };
}

/**
 * Pure: a rate for people: `10/1s`, `600/1m`, `5/250ms`.
 *
 * @example
 * ```ts
 * formatRate({ limit: 10, periodMs: 1000 }); // "10/1s"
 * ```
 */
export function formatRate(rate: { limit: number; periodMs: number }): string {
  const units: Array<[string, number]> = [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ];
  const unit = units.find(([, ms]) => rate.periodMs % ms === 0);
  return `${rate.limit}/${unit === undefined ? `${rate.periodMs}ms` : `${rate.periodMs / unit[1]}${unit[0]}`}`;
}
