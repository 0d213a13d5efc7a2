import type { SqliteContext } from "./context.ts";
import type { Row } from "./rows.ts";

/**
 * The claim of a queue holding jobs under a concurrency key, on SQLite: inside the claim's write
 * transaction (one writer at a time, so each key's running jobs are counted exactly), at most the
 * key's limit of its jobs run at once, keys served round-robin. See the PostgreSQL driver's
 * limited-claim.ts for the same rule in one statement.
 */

const PENDING = "('available', 'scheduled', 'retryable')";
/** Pending rows of the limited claim index: its predicate, exactly. */
const LIMITED = `state IN ${PENDING} AND (concurrency_key IS NOT NULL OR rate_key IS NOT NULL)`;

/**
 * True when the queue has pending jobs under a concurrency key or a rate limit (one probe of an
 * index that is empty while no job uses them). Runs inside the claim's transaction.
 *
 * @example
 * ```ts
 * if (hasLimitedJobs(ctx, "default")) rows = claimLimited(ctx, now, "default", 10);
 * ```
 */
export function hasLimitedJobs(ctx: SqliteContext, queue: string): boolean {
  return (
    ctx.stmt(`SELECT 1 AS found FROM ${ctx.t.jobs} WHERE queue = ? AND ${LIMITED} LIMIT 1`).get(queue) !==
    undefined
  );
}

/** Per store context: per queue, the last key this process's previous limited claim walked to. */
const cursors = new WeakMap<SqliteContext, Map<string, string>>();

/** The keys one walk of a claim of `limit` jobs visits at most (see {@link pickLimited}). */
export function walkBound(limit: number): number {
  return Math.max(2 * limit, 64);
}

/**
 * The most pending jobs one limited claim of `limit` jobs reads in its search for jobs without a
 * key (see {@link pickLimited}).
 */
export function scanBound(limit: number): number {
  return Math.max(limit, 64);
}

/** A position in the claim index's order: (priority, run_at, id). */
type ScanPosition = [priority: number, runAt: number, id: number];

/** Before every job (ids start at 1). */
const SCAN_START: ScanPosition = [Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0];

/** Per store context: per queue, where this process's previous search for jobs without a key stopped. */
const scans = new WeakMap<SqliteContext, Map<string, ScanPosition>>();

/** How many bounds' worth of keys a walk that finds nothing to claim goes on for. */
const MAX_WALKS = 16;

interface Candidate {
  id: number;
  priority: number;
  runAt: number;
  /** 1 for a key's first job, 2 for its second, ...; 1 for every job without a key. */
  rank: number;
  /** The rate window bucket of a rate-limited job. */
  bucket?: string;
}

/**
 * Pure: candidates in claim order, (rank, priority, run_at, id): one job of every key before a
 * second of any.
 *
 * @example
 * ```ts
 * roundRobin([{ id: 2, priority: 0, runAt: 5, rank: 2 }, { id: 9, priority: 0, runAt: 7, rank: 1 }]); // id 9 first
 * ```
 */
export function roundRobin(candidates: readonly Candidate[]): Candidate[] {
  return [...candidates].sort(
    (a, b) => a.rank - b.rank || a.priority - b.priority || a.runAt - b.runAt || a.id - b.id,
  );
}

/**
 * Picks the ids to claim (in claim order) from a queue with keyed jobs: walks the distinct keys of
 * its pending keyed jobs (one index probe each), starting after the key this process's previous
 * claim of the queue reached and wrapping around to the first key, until the walked keys hold
 * `limit` runnable jobs or the walk reaches its bound ({@link walkBound}; a walk that found
 * nothing goes on, up to MAX_WALKS bounds), so that consecutive claims give every key its turn;
 * for each key, takes up to its limit (that of its first pending job) minus its running jobs,
 * and, for a rate-limited key, at most its rate limit minus the starts already counted in the
 * current window (one statement per key reads the key, its limits, its running jobs and its
 * runnable jobs); jobs without a key each count as a key of their own, searched among
 * the queue's next {@link scanBound} pending jobs in claim order after where this process's
 * previous search stopped (no index holds them apart; the search starts over at the queue's end,
 * and goes on, up to MAX_WALKS times, while the claim found nothing); then the first `limit` in
 * round-robin order (one job of every walked key before a second of any), of which rate-limited jobs only among
 * the first `start` (they start now, so the window counts real starts). The windows of the chosen
 * rate-limited jobs are counted. Nothing when the queue is paused. Must run inside the claim's
 * write transaction.
 *
 * @example
 * ```ts
 * const ids = pickLimited(ctx, Date.now(), "default", 10);
 * ```
 */
export function pickLimited(
  ctx: SqliteContext,
  now: number,
  queue: string,
  limit: number,
  start: number,
): number[] {
  const j = ctx.t.jobs;
  if (
    ctx.stmt(`SELECT 1 AS found FROM ${ctx.t.queues} WHERE name = ? AND paused = 1`).get(queue) !== undefined
  )
    return [];
  // The next key, its first pending job's limits, the key's running jobs and (in the same
  // statement, one row each) its runnable jobs up to its free slots: a probe of the limited claim
  // index for the key, one of the keyed running index, one of the limited claim index for its
  // jobs. At least one row while there is a next key (its job columns null when none may run).
  const keyStmt = (upTo: boolean) =>
    ctx.stmt(
      `WITH h AS MATERIALIZED (
        SELECT j.concurrency_key AS k, j.concurrency_limit AS lim, j.rate_limit, j.rate_period_ms,
          (SELECT count(*) FROM ${j} r WHERE r.queue = j.queue AND r.concurrency_key = j.concurrency_key
            AND r.state = 'running') AS running
        FROM ${j} j
        WHERE j.queue = ?1 AND j.${LIMITED} AND j.concurrency_key > ?2 ${upTo ? "AND j.concurrency_key <= ?3" : ""}
        ORDER BY j.concurrency_key, j.priority, j.run_at, j.id LIMIT 1
      )
      SELECT h.k, h.lim, h.rate_limit, h.rate_period_ms, h.running, q.id, q.priority, q.run_at
      FROM h LEFT JOIN ${j} q ON q.queue = ?1 AND q.concurrency_key = h.k AND q.${LIMITED}
        AND q.run_at <= ?4 AND q.cancel_requested = 0
      ORDER BY q.priority, q.run_at, q.id
      LIMIT coalesce((SELECT max(1, min(?5, CASE WHEN lim IS NULL THEN ?5 ELSE lim - running END)) FROM h), 1)`,
    );
  const nextKey = keyStmt(false);
  const nextKeyUpTo = keyStmt(true);
  // The search for jobs without a key: the next pending jobs in claim order after the position
  // the previous claim's search reached, at most scanBound of them (see pickLimited).
  const scan = ctx.stmt(
    `SELECT id, priority, run_at,
        concurrency_key IS NULL AND rate_key IS NULL AND run_at <= ?1 AND cancel_requested = 0 AS fit
      FROM ${j}
      WHERE queue = ?2 AND state IN ${PENDING} AND (priority, run_at, id) > (?3, ?4, ?5)
      ORDER BY priority, run_at, id LIMIT ?6`,
  );
  const windowOf = ctx.stmt(`SELECT window_start, started FROM ${ctx.t.rateWindows} WHERE bucket = ?`);
  const count = ctx.stmt(
    `INSERT INTO ${ctx.t.rateWindows} AS w (bucket, window_start, started, window_end) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (bucket) DO UPDATE SET
       started = CASE WHEN w.window_start = excluded.window_start THEN w.started + excluded.started ELSE excluded.started END,
       window_start = excluded.window_start, window_end = excluded.window_end`,
  );
  const candidates: Candidate[] = [];
  const windows = new Map<string, { start: number; end: number }>();
  const add = (rows: Row[], ranked: boolean, bucket?: string): void => {
    rows.forEach((r, i) =>
      candidates.push({
        id: Number(r["id"]),
        priority: Number(r["priority"]),
        runAt: Number(r["run_at"]),
        rank: ranked ? i + 1 : 1,
        ...(bucket === undefined ? {} : { bucket }),
      }),
    );
  };
  // The walk starts after the key this process's previous claim of the queue reached, goes to the
  // last key, then from the first (keys are non-empty text: every key sorts after "") up to the
  // cursor; it stops once the walked keys hold a claim's worth of jobs, or after its bound (once
  // it found something, else after a few bounds' worth: see MAX_WALKS).
  let byQueue = cursors.get(ctx);
  if (byQueue === undefined) {
    byQueue = new Map();
    cursors.set(ctx, byQueue);
  }
  const cursor = byQueue.get(queue) ?? "";
  const bound = walkBound(limit);
  let wrapped = false;
  let room = 0;
  let walked = 0;
  let key = cursor;
  for (;;) {
    if (room >= limit || walked >= bound * MAX_WALKS || (walked > 0 && walked % bound === 0 && room > 0))
      break;
    let got = wrapped ? [] : (nextKey.all(queue, key, null, now, limit) as Row[]);
    if (got.length === 0 && !wrapped) {
      wrapped = true;
      key = "";
    }
    if (wrapped) got = nextKeyUpTo.all(queue, key, cursor, now, limit) as Row[];
    const next = got[0];
    if (next === undefined) break;
    key = String(next["k"]);
    walked++;
    byQueue.set(queue, key);
    const first = next;
    let free = limit;
    // A null limit: no concurrency limit (a key with only a rate limit).
    if (first["lim"] !== null) free = Math.min(free, Number(first["lim"]) - Number(first["running"]));
    let bucket: string | undefined;
    if (first["rate_limit"] !== null && first["rate_period_ms"] !== null) {
      const period = Number(first["rate_period_ms"]);
      const windowStart = Math.floor(now / period) * period;
      // Queue names never hold "/": the bucket names one (queue, key).
      bucket = `${queue}/${key}`;
      windows.set(bucket, { start: windowStart, end: windowStart + period });
      const w = windowOf.get(bucket) as Row | undefined;
      const used = w !== undefined && Number(w["window_start"]) === windowStart ? Number(w["started"]) : 0;
      free = Math.min(free, Number(first["rate_limit"]) - used);
    }
    if (free > 0) {
      const rows = got.filter((r) => r["id"] !== null).slice(0, free);
      room += rows.length;
      add(rows, true, bucket);
    }
  }
  let scansOf = scans.get(ctx);
  if (scansOf === undefined) {
    scansOf = new Map();
    scans.set(ctx, scansOf);
  }
  const scanned = scanBound(limit);
  // A search that finds nothing, in a claim that found nothing else, goes on from where it stopped
  // (a few times, as the walk does) rather than report a queue with runnable jobs empty.
  for (let round = 1; ; round++) {
    const rows = scan.all(now, queue, ...(scansOf.get(queue) ?? SCAN_START), scanned) as Row[];
    const last = rows.at(-1);
    // A search that read fewer jobs than its bound reached the queue's end: the next starts over.
    scansOf.set(
      queue,
      rows.length < scanned || last === undefined
        ? SCAN_START
        : [Number(last["priority"]), Number(last["run_at"]), Number(last["id"])],
    );
    const fit = rows.filter((r) => Number(r["fit"]) === 1).slice(0, limit);
    add(fit, false);
    if (candidates.length > 0 || rows.length < scanned || round >= MAX_WALKS) break;
  }
  const chosen = roundRobin(candidates)
    .filter((c, at) => c.bucket === undefined || at < start)
    .slice(0, limit);
  const started = new Map<string, number>();
  for (const c of chosen) if (c.bucket !== undefined) started.set(c.bucket, (started.get(c.bucket) ?? 0) + 1);
  for (const [bucket, n] of started) {
    const w = windows.get(bucket)!;
    count.run(bucket, w.start, n, w.end);
  }
  return chosen.map((c) => c.id);
}
