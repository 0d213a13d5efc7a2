import type pg from "pg";
import { PENDING, type PgContext } from "./context.ts";
import { type ClaimRow, RUN_AT_MS } from "./rows.ts";

/**
 * The claim of a queue holding jobs under a concurrency key: at most the key's limit of its jobs
 * running at once across every process, keys served round-robin. Such claims of one queue are
 * serialized by a transaction-level advisory lock, taken by a statement of its own, so that the
 * claim statement's snapshot (READ COMMITTED: one per statement) sees every claim committed
 * before it and counts each key's running jobs exactly. Queues without keyed jobs never get here:
 * their claim is the plain statement (see leases.ts), which leaves keyed jobs alone.
 */

/** Pending rows of the limited claim index: its predicate, exactly. */
const LIMITED = `state IN ${PENDING} AND (concurrency_key IS NOT NULL OR rate_key IS NOT NULL)`;

/**
 * Pure: whether a stored rate window `stored` is later than a claim's window `mine` and has
 * begun. A claim's time is its transaction's start (`now()`), taken before it waited for the
 * queue's claim lock, so a claim can come after one whose window is later than its own: it then
 * reads that window as used up (it takes no rate-limited job: counted in its own, earlier window,
 * they would exceed a limit already spent there) and its count never moves the row back. A stored
 * window that has not begun yet by the clock (the server's clock went back) is not later: it is
 * replaced, so that a clock step back stalls nothing.
 */
export function laterWindow(stored: string, mine: string): string {
  return `(${stored} > ${mine} AND ${stored} <= clock_timestamp())`;
}

/** The upsert of a rate window's count (`w` the stored row, `EXCLUDED` this claim's). */
export function rateWindowUpdate(): string {
  const later = laterWindow("w.window_start", "EXCLUDED.window_start");
  return `started = CASE WHEN w.window_start = EXCLUDED.window_start THEN w.started + EXCLUDED.started
      WHEN ${later} THEN w.started ELSE EXCLUDED.started END,
    window_start = CASE WHEN ${later} THEN w.window_start ELSE EXCLUDED.window_start END,
    window_end = CASE WHEN ${later} THEN w.window_end ELSE EXCLUDED.window_end END`;
}

/** How long a queue's "has keyed jobs" answer is reused before it is asked again. */
export const LIMITED_PROBE_MS = 1_000;

/**
 * The limited claim statement ($1 queue, $2 limit, $3 worker id, $4 lease ms, $5 claim token,
 * $6 how many start at once, $7 the key to start after, $8 the most keys to walk, $9-$11 the
 * (priority, run_at, id) the search for jobs without a key starts after, $12 the most pending jobs
 * it reads). It walks the distinct keys of the queue's pending keyed jobs with a loose index scan
 * (one probe per key, which reads the key's first pending job and so its limits), starting after
 * `$7` (the key this process's previous claim of the queue reached), on to the last key, then from
 * the first key up to `$7`. For each key it counts the running jobs (a probe of the keyed running
 * index) and takes the runnable jobs it may (a third probe, whose ids the walk carries on): up to its limit (the
 * limit of its first pending job) minus its running jobs. The walk stops once the keys walked hold
 * `$2` runnable jobs, or after `$8` keys, so a claim visits the keys it needs rather than every
 * key, and the next claim goes on from where it stopped: over consecutive claims every key gets
 * its turn. Each walked key's jobs are taken in (priority, run_at, id) order, numbered 1, 2, ...
 * within the key; jobs without a key each count as a key of their own (number 1). No index holds
 * the pending jobs without a key apart (one would be written by every plain job), so they are
 * searched among the queue's next `$12` pending jobs in claim order after position `$9-$11` (where
 * this process's previous search stopped; it starts over once a search reaches the queue's end):
 * a claim reads a bounded number of pending jobs, never the whole backlog, and a job without a key
 * waits at most until the search comes round to it. The claim takes the first `$2` in order of
 * (number, priority, run_at, id): one job of every walked key before a second of any, so a key
 * with a large backlog cannot starve the others. A key with a rate limit takes at most its limit
 * minus the starts counted in the current window (row `<queue>/<key>` of the rate windows table,
 * reset when the window moves on; not read for keys without a rate limit), and only among the
 * first `$6` (they start now, so the window counts real starts); the statement counts them. A
 * claim whose window is earlier than the one its key's row already counts (it began before a
 * later claim and waited for the lock behind it) takes none of the key's jobs: counted in its own
 * window they would exceed a limit already spent there. A key
 * without a concurrency limit (null: only a rate limit) is bounded by the claim's size alone.
 * Leases run from the statement's execution (`clock_timestamp()`), not from the transaction's start,
 * which is before the wait for the queue's claim lock. The walk locks the runnable jobs it takes (FOR UPDATE SKIP LOCKED in the third probe: rows
 * another transaction holds are skipped, and a job changed meanwhile is checked again); the jobs
 * without a key are locked once chosen. A paused queue yields nothing. The first row (or, when
 * nothing is claimed, one row of nulls) carries the last key walked (`walked_to`), the number of
 * keys walked (`walked`), the number of jobs the search read (`scanned`) and the position it
 * reached (`scanned_priority`, `scanned_run_at`, `scanned_id`); the other rows carry nulls there.
 *
 * @example
 * ```ts
 * await client.query(limitedClaimSql(ctx), [
 *   "default", 10, "w1", 30_000, randomUUID(), 10, "", 64, -2147483648, "-infinity", "0", 64,
 * ]);
 * ```
 */
export function limitedClaimSql(ctx: PgContext): string {
  const j = ctx.jobs;
  // The next key after (k, part): in part 0 the keys after the cursor $7, then (part 1) the keys
  // from the first up to the cursor; with its running jobs, its rate window, and what it may take.
  const step = (k: string, part: string): string =>
    `SELECT nx.k, nx.part, nx.rate_limit, nx.rate_period_ms, head.win, ready.n AS take, ready.ids, ready.prs, ready.ras
      FROM (
        (SELECT concurrency_key AS k, 0 AS part, concurrency_limit AS lim, rate_limit, rate_period_ms
          FROM ${j} WHERE ${part} = 0 AND queue = $1 AND ${LIMITED} AND concurrency_key > ${k}
          ORDER BY concurrency_key, priority, run_at, id LIMIT 1)
        UNION ALL
        (SELECT concurrency_key AS k, 1 AS part, concurrency_limit AS lim, rate_limit, rate_period_ms
          FROM ${j} WHERE queue = $1 AND ${LIMITED}
            AND concurrency_key > CASE WHEN ${part} = 0 THEN '' ELSE ${k} END AND concurrency_key <= $7::text
          ORDER BY concurrency_key, priority, run_at, id LIMIT 1)
        LIMIT 1
      ) nx
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS n FROM ${j}
        WHERE queue = $1 AND state = 'running' AND concurrency_key = nx.k
      ) running
      CROSS JOIN LATERAL (
        SELECT to_timestamp(floor(extract(epoch FROM now()) * 1000 / nx.rate_period_ms) * nx.rate_period_ms / 1000.0) AS win
      ) head
      LEFT JOIN LATERAL (
        SELECT CASE WHEN w.window_start = head.win THEN w.started
          WHEN ${laterWindow("w.window_start", "head.win")} THEN nx.rate_limit ELSE 0 END AS used
        FROM ${ctx.rateWindows} w WHERE nx.rate_limit IS NOT NULL AND w.bucket = $1 || '/' || nx.k
      ) w ON true
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS n, array_agg(x.id) AS ids, array_agg(x.priority) AS prs, array_agg(x.run_at) AS ras
        FROM (
          SELECT q.id, q.priority, q.run_at FROM ${j} q
          WHERE q.queue = $1 AND q.concurrency_key = nx.k AND q.${LIMITED}
            AND q.run_at <= now() AND NOT q.cancel_requested
          ORDER BY q.priority, q.run_at, q.id
          LIMIT GREATEST(0, LEAST($2::int,
            CASE WHEN nx.lim IS NULL THEN $2::int ELSE nx.lim - running.n END,
            CASE WHEN nx.rate_limit IS NULL THEN $2::int
              ELSE nx.rate_limit - COALESCE(w.used, 0) END))
          FOR UPDATE OF q SKIP LOCKED
        ) x
      ) ready`;
  return `WITH RECURSIVE walk AS (
      SELECT s.*, 1 AS n, s.take AS room
      FROM (${step("$7::text", "0")}) s
      WHERE NOT EXISTS (SELECT 1 FROM ${ctx.queues} WHERE name = $1 AND paused)
      UNION ALL
      SELECT s.*, walk.n + 1, walk.room + s.take
      FROM walk CROSS JOIN LATERAL (${step("walk.k", "walk.part")}) s
      WHERE walk.room < $2 AND walk.n < $8::int
    ),
    keyed AS (
      SELECT p.id, p.priority, p.run_at, p.rank, walk.k, walk.win, walk.rate_limit IS NOT NULL AS rated,
        walk.rate_period_ms AS per
      FROM walk
      CROSS JOIN LATERAL unnest(walk.ids, walk.prs, walk.ras) WITH ORDINALITY AS p(id, priority, run_at, rank)
      WHERE walk.take > 0
    ),
    scan AS (
      SELECT id, priority, run_at,
        concurrency_key IS NULL AND rate_key IS NULL AND run_at <= now() AND NOT cancel_requested AS fit
      FROM ${j}
      WHERE state IN ${PENDING} AND queue = $1
        AND (priority, run_at, id) > ($9::int, $10::timestamptz, $11::bigint)
      ORDER BY priority, run_at, id
      LIMIT $12
    ),
    plain AS (
      SELECT id, priority, run_at, 1::bigint AS rank, NULL::text AS k, NULL::timestamptz AS win, false AS rated,
        NULL::integer AS per
      FROM scan WHERE fit
      ORDER BY priority, run_at, id
      LIMIT $2
    ),
    scanned AS (
      SELECT (SELECT count(*)::int FROM scan) AS scan_n, last.priority AS scan_pr, last.run_at::text AS scan_ra,
        last.id::text AS scan_id
      FROM (SELECT 1) one LEFT JOIN (
        SELECT priority, run_at, id FROM scan ORDER BY priority DESC, run_at DESC, id DESC LIMIT 1
      ) last ON true
    ),
    ordered AS (
      SELECT a.*, row_number() OVER (ORDER BY a.rank, a.priority, a.run_at, a.id) AS ord
      FROM (SELECT * FROM keyed UNION ALL SELECT * FROM plain) a
      WHERE NOT EXISTS (SELECT 1 FROM ${ctx.queues} WHERE name = $1 AND paused)
    ),
    chosen AS (
      SELECT id, ord, k, win, rated, per FROM ordered
      WHERE NOT rated OR ord <= $6
      ORDER BY ord
      LIMIT $2
    ),
    lockedPlain AS (
      SELECT j.id, chosen.ord AS pick, chosen.k, chosen.win, chosen.rated, chosen.per
      FROM chosen JOIN ${j} j ON j.id = chosen.id
      WHERE chosen.k IS NULL AND j.state IN ${PENDING} AND NOT j.cancel_requested
      FOR UPDATE OF j SKIP LOCKED
    ),
    c AS (
      SELECT id, ord AS pick, k, win, rated, per FROM chosen WHERE k IS NOT NULL
      UNION ALL SELECT * FROM lockedPlain
    ),
    n AS (SELECT c.*, row_number() OVER (ORDER BY c.pick) AS ord FROM c),
    u AS (
      UPDATE ${j} j SET
        state = 'running', attempt = j.attempt + 1, worker_id = $3,
        started_at = CASE WHEN n.ord <= $6 THEN now() END,
        lease_token = $5::text || '.' || j.id, lease_expires_at = clock_timestamp() + $4 * interval '1 millisecond'
      FROM n WHERE j.id = n.id AND set_config('synchronous_commit', 'off', true) IS NOT NULL
      RETURNING j.id, j.kind, j.queue, j.payload, j.attempt, j.max_attempts, j.lease_token,
        j.started_at IS NOT NULL AS started, j.run_at, j.trace_context, j.concurrency_key, j.rate_period_ms,
        j.unstarted_losses > 0 AS suspect, n.ord,
        n.k AS bucket_key, n.win, n.rated, n.per
    ),
    counted AS (
      INSERT INTO ${ctx.rateWindows} AS w (bucket, window_start, started, window_end)
      SELECT $1 || '/' || u.bucket_key, u.win, count(*), u.win + max(u.per) * interval '1 millisecond'
      FROM u
      WHERE u.rated GROUP BY u.bucket_key, u.win
      ON CONFLICT (bucket) DO UPDATE SET ${rateWindowUpdate()}
    )
    SELECT id::text AS id, kind, queue, payload, attempt, max_attempts, lease_token, started, ${RUN_AT_MS}, trace_context,
      concurrency_key, rate_period_ms, suspect, first.walked_to, first.walked, first.scanned,
      first.scanned_priority, first.scanned_run_at, first.scanned_id
    FROM (SELECT 1) one LEFT JOIN u ON true LEFT JOIN (
      SELECT (SELECT walk.k FROM walk ORDER BY walk.n DESC LIMIT 1) AS walked_to, (SELECT max(walk.n) FROM walk) AS walked,
        scan_n AS scanned, scan_pr AS scanned_priority, scan_ra AS scanned_run_at, scan_id AS scanned_id
      FROM scanned
    ) first ON u.ord IS NULL OR u.ord = 1
    ORDER BY ord`;
}

/**
 * Runs the limited claim in its own transaction on a pooled connection: the queue's advisory
 * lock, then the claim statement, then the commit (see the module comment).
 *
 * @example
 * ```ts
 * const rows = await claimLimited(ctx, ["default", 10, "w1", 30_000, randomUUID(), 10], 10_000);
 * ```
 */
export async function claimLimited(
  ctx: PgContext,
  values: ClaimValues,
  timeoutMs: number,
): Promise<ClaimRow[]> {
  return await inQueueLock(ctx, values[0], timeoutMs, (query) => runLimitedClaim(ctx, query, values));
}

/** Where a process's claims of a queue are: the last key walked, and the plain scan's position. */
interface Cursor {
  /** The last key the previous claim walked to ("" before the first key). */
  key: string;
  /** The (priority, run_at, id) the previous claim's scan for jobs without a key stopped at. */
  scan: ScanPosition;
}

/** A position in the claim index's order; {@link SCAN_START} sorts before every job. */
type ScanPosition = [priority: number, runAt: string, id: string];

/** Before every job: the lowest priority, no time, no id (ids start at 1). */
const SCAN_START: ScanPosition = [-2147483648, "-infinity", "0"];

/** Per store context: per queue, where this process's previous limited claim of it stopped. */
const cursors = new WeakMap<PgContext, Map<string, Cursor>>();

/** The most keys one limited claim of `limit` jobs walks (see {@link limitedClaimSql}). */
export function walkBound(limit: number): number {
  return Math.max(2 * limit, 64);
}

/**
 * The most pending jobs one limited claim of `limit` jobs reads in its search for jobs without a
 * key (see {@link limitedClaimSql}).
 */
export function scanBound(limit: number): number {
  return Math.max(limit, 64);
}

interface LimitedRow extends ClaimRow {
  walked_to: string | null;
  walked: number | null;
  scanned: number;
  scanned_priority: number | null;
  scanned_run_at: string | null;
  scanned_id: string | null;
}

/**
 * Runs the limited claim statement inside the queue's claim lock (see {@link inQueueLock}): the
 * key walk starts after the key this process's previous claim of the queue reached, and the
 * search for jobs without a key after the job it reached; where they reach now is kept for the
 * next one.
 *
 * @example
 * ```ts
 * await inQueueLock(ctx, "default", 10_000, (query) => runLimitedClaim(ctx, query, values));
 * ```
 */
export async function runLimitedClaim(
  ctx: PgContext,
  query: LockedQuery,
  values: ClaimValues,
): Promise<ClaimRow[]> {
  let byQueue = cursors.get(ctx);
  if (byQueue === undefined) {
    byQueue = new Map();
    cursors.set(ctx, byQueue);
  }
  const bound = walkBound(values[1]);
  const scan = scanBound(values[1]);
  // A claim whose walk or scan ended at its bound having found nothing to claim (every key it met
  // at its limit, no job without a key) goes on from where it stopped, a few times, rather than
  // report a queue with runnable jobs empty.
  // Once a walk has met every key without reaching its bound, further rounds walk one key only.
  let keys = bound;
  for (let round = 1; ; round++) {
    const cursor = byQueue.get(values[0]) ?? { key: "", scan: SCAN_START };
    const { rows } = await query<LimitedRow>("claim_limited", limitedClaimSql(ctx), [
      ...values,
      cursor.key,
      keys,
      ...cursor.scan,
      scan,
    ]);
    const first = rows[0];
    // Every key sorts after "": an empty walk (no keyed jobs) starts the next one from the first.
    // A scan that read fewer jobs than its bound reached the queue's end: the next starts over.
    byQueue.set(values[0], {
      key: first?.walked_to ?? "",
      scan:
        first === undefined || first.scanned < scan || first.scanned_id === null
          ? SCAN_START
          : [Number(first.scanned_priority), String(first.scanned_run_at), first.scanned_id],
    });
    // The cursor columns ride on the first row only; toClaimedJobs reads the job's own columns.
    const claimed: ClaimRow[] = first?.id == null ? [] : rows;
    const walkMore = keys === bound && first?.walked === bound;
    if (claimed.length > 0 || !(walkMore || first?.scanned === scan) || round >= MAX_WALKS) return claimed;
    if (!walkMore) keys = 1;
  }
}

/** The most walks of one limited claim that finds only keys at their limit. */
const MAX_WALKS = 16;

/** The claim statements' parameters. */
export type ClaimValues = [
  queue: string,
  limit: number,
  workerId: string,
  leaseMs: number,
  token: string,
  start: number,
];

/** A named query on the transaction's connection. */
export type LockedQuery = <R extends pg.QueryResultRow>(
  name: string,
  text: string,
  args: unknown[],
) => Promise<pg.QueryResult<R>>;

/**
 * Runs `body` in a transaction on a pooled connection, after the queue's claim lock (a
 * transaction-level advisory lock; see the module comment), and commits.
 *
 * @example
 * ```ts
 * const rows = await inQueueLock(ctx, "default", 10_000, (query) => query("x", "SELECT 1", []));
 * ```
 */
export async function inQueueLock<T>(
  ctx: PgContext,
  queue: string,
  timeoutMs: number,
  body: (query: LockedQuery) => Promise<T>,
): Promise<T> {
  const client = await ctx.pool.connect();
  let failure: Error | undefined;
  try {
    // pg reads a per-query query_timeout; its types do not list it.
    const query: LockedQuery = <R extends pg.QueryResultRow>(name: string, text: string, args: unknown[]) =>
      client.query<R>({
        name: `tend.${ctx.schema}.${name}`,
        text,
        values: args,
        query_timeout: timeoutMs,
      } as pg.QueryConfig);
    await client.query("BEGIN");
    try {
      // The claim statements of this transaction run on their generic plan from their first
      // execution on a connection: planning the limited claim statement costs more than running
      // it, and the server would otherwise plan it anew for each of its first five executions.
      await query(
        "claim_limited_lock",
        `SELECT pg_advisory_xact_lock(hashtextextended($1, 0)),
          set_config('plan_cache_mode', 'force_generic_plan', true)`,
        [`${ctx.schema}.claim.${queue}`],
      );
      const out = await body(query);
      await client.query("COMMIT");
      return out;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    }
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    // A connection whose statement failed mid-transaction is discarded rather than reused.
    client.release(failure);
  }
}

/** What a probe of a queue tells the claim: which claim to run. */
export interface QueueProbe {
  /** The queue has pending jobs under a concurrency key or a rate limit. */
  limited: boolean;
  /** The queue has limits of its own (the queues table). */
  capped: boolean;
}

/** Per store context: per queue, the last probe and when it was asked. */
const probes = new WeakMap<PgContext, Map<string, QueueProbe & { at: number }>>();

/**
 * Drops a queue's cached probe, so that this process's next claim asks again (after a change of
 * the queue's limits).
 *
 * @example
 * ```ts
 * forgetProbe(ctx, "emails");
 * ```
 */
export function forgetProbe(ctx: PgContext, queue: string): void {
  probes.get(ctx)?.delete(queue);
}

/**
 * Whether a queue has pending jobs under a concurrency key (or a rate limit), and whether it has
 * limits of its own, asked at most once per {@link LIMITED_PROBE_MS} per queue and store (one
 * probe of an index that is empty while no job uses keys, and one of the queues table's primary
 * key). Keyed jobs enqueued meanwhile, and limits set by another process, wait at most that long.
 *
 * @example
 * ```ts
 * const { limited, capped } = await probeQueue(ctx, "default");
 * ```
 */
export async function probeQueue(ctx: PgContext, queue: string): Promise<QueueProbe> {
  let byQueue = probes.get(ctx);
  if (byQueue === undefined) {
    byQueue = new Map();
    probes.set(ctx, byQueue);
  }
  const now = Date.now();
  const known = byQueue.get(queue);
  if (known !== undefined && now - known.at < LIMITED_PROBE_MS) return known;
  const { rows } = await ctx.run<QueueProbe>(
    "claim_probe_capped",
    `SELECT EXISTS (SELECT 1 FROM ${ctx.jobs} WHERE queue = $1 AND ${LIMITED}) AS limited,
      EXISTS (SELECT 1 FROM ${ctx.queues} WHERE name = $1
        AND (concurrency_limit IS NOT NULL OR rate_limit IS NOT NULL)) AS capped`,
    [queue],
  );
  const probe = { limited: rows[0]?.limited === true, capped: rows[0]?.capped === true, at: now };
  byQueue.set(queue, probe);
  return probe;
}
