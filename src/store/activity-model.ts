/**
 * The jobs' recent activity, per queue and per minute: what the dashboard's overview charts and
 * its counts of finished jobs show. Read from bounded ranges of two indexes (the primary key for
 * enqueued jobs, the finished index for finished ones), at most `maxRows` rows each.
 */
import { checkInteger } from "../errors/index.ts";

/** One queue's activity, one number per bucket, oldest bucket first. */
export interface QueueActivity {
  queue: string;
  enqueued: number[];
  completed: number[];
  discarded: number[];
  cancelled: number[];
}

/** The activity of every queue with enqueued or finished jobs in the window. */
export interface JobActivity {
  /** Start of the first bucket. */
  since: Date;
  bucketMs: number;
  buckets: number;
  queues: QueueActivity[];
  /**
   * The enqueued counts are complete from this time on: `since`, unless the window held more
   * than `maxRows` enqueued jobs (then only the newest `maxRows` were counted).
   */
  enqueuedFrom: Date;
  /** As `enqueuedFrom`, for the finished counts. */
  finishedFrom: Date;
}

/** What to read: `buckets` buckets of `bucketMs` ending now; at most `maxRows` rows per series. */
export interface ActivityOptions {
  /** Default 60 (an hour of minutes). */
  buckets?: number;
  /** Default 60,000 (a minute). */
  bucketMs?: number;
  /** Default 20,000. */
  maxRows?: number;
}

/** Checked options with defaults (TEND_E_INVALID_STORE_ARGUMENT for a bad one). */
export function activityOptions(options: ActivityOptions = {}): Required<ActivityOptions> {
  return {
    buckets: checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "buckets", options.buckets ?? 60, 1, 1_440),
    bucketMs: checkInteger(
      "TEND_E_INVALID_STORE_ARGUMENT",
      "bucketMs",
      options.bucketMs ?? 60_000,
      1_000,
      3_600_000,
    ),
    maxRows: checkInteger(
      "TEND_E_INVALID_STORE_ARGUMENT",
      "maxRows",
      options.maxRows ?? 20_000,
      1,
      1_000_000,
    ),
  };
}

/** One enqueued (`state` null) or finished job: its queue, final state and time in ms. */
export interface ActivityRow {
  queue: string;
  state: string | null;
  at: number;
}

/**
 * Pure: rows counted into buckets ending at `now` (rows outside the window are ignored); queues
 * sorted by name. `enqueued` rows have a null state, finished rows their final state.
 *
 * @example
 * ```ts
 * bucketActivity([{ queue: "mail", state: null, at: now - 30_000 }], [], now, { buckets: 60, bucketMs: 60_000, maxRows: 10 });
 * ```
 */
export function bucketActivity(
  enqueued: readonly ActivityRow[],
  finished: readonly ActivityRow[],
  now: number,
  o: Required<ActivityOptions>,
): JobActivity {
  const since = now - o.buckets * o.bucketMs;
  const byQueue = new Map<string, QueueActivity>();
  const series = (queue: string): QueueActivity => {
    let a = byQueue.get(queue);
    if (a === undefined) {
      const zeros = () => Array.from({ length: o.buckets }, () => 0);
      a = { queue, enqueued: zeros(), completed: zeros(), discarded: zeros(), cancelled: zeros() };
      byQueue.set(queue, a);
    }
    return a;
  };
  // A row of this very millisecond, or a little ahead (another process's or the server's clock),
  // belongs to the last bucket.
  const bucket = (at: number) => Math.min(o.buckets - 1, Math.floor((at - since) / o.bucketMs));
  for (const r of enqueued) {
    const b = bucket(r.at);
    if (b >= 0 && b < o.buckets) series(r.queue).enqueued[b]! += 1;
  }
  for (const r of finished) {
    const b = bucket(r.at);
    if (b < 0 || b >= o.buckets) continue;
    if (r.state === "completed" || r.state === "discarded" || r.state === "cancelled")
      series(r.queue)[r.state][b]! += 1;
  }
  // A series cut at maxRows is complete from its oldest row read on.
  const from = (rows: readonly ActivityRow[]) =>
    new Date(rows.length >= o.maxRows ? Math.max(since, Math.min(...rows.map((r) => r.at))) : since);
  return {
    since: new Date(since),
    bucketMs: o.bucketMs,
    buckets: o.buckets,
    queues: [...byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0)),
    enqueuedFrom: from(enqueued),
    finishedFrom: from(finished),
  };
}
