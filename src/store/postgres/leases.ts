import { randomUUID } from "node:crypto";
import { checkDate, checkInteger } from "../../errors/index.ts";
import { isJobId, MAX_LEASE_MS } from "../args.ts";
import type {
  ClaimedJob,
  ClaimRequest,
  Completion,
  Failure,
  HeartbeatResult,
  LeaseRef,
} from "../job-model.ts";
import { batchNotify, NOW_ISO, PENDING, type PgContext } from "./context.ts";
import { markCapped } from "../queue-limits.ts";
import { claimCapped } from "./capped-claim.ts";
import { claimLimited, probeQueue } from "./limited-claim.ts";
import { type ClaimRow, RUN_AT_MS, toClaimedJobs } from "./rows.ts";

/**
 * The worker's statements: claim, and the lease-fenced writes (complete, fail, heartbeat, release,
 * markCancelled) in batches through unnest arrays (rescue of lapsed leases is in rescue.ts). Every write
 * matches (id, lease_token, state = 'running'), so a stale attempt can never change a row.
 */

/**
 * A condition (always true) that makes the statement's own transaction commit without waiting
 * for the WAL flush: `synchronous_commit` is read at commit and `set_config(..., true)` lasts
 * only for this transaction, so it is safe behind transaction poolers. Used by claims and
 * heartbeats only: if the server crashes before the flush, the claim is lost and the job is
 * simply pending again after recovery (the lost attempt's writes are fenced out), and a lost
 * heartbeat only lets a lease lapse sooner. Every durable write (insert, complete, fail, ...)
 * commits synchronously, which also flushes these.
 */
export const ASYNC_COMMIT = "set_config('synchronous_commit', 'off', true) IS NOT NULL";

/** Refs with a well-formed id and token (others can never be held), in input order. */
export function validRefs<T extends LeaseRef>(refs: readonly T[]): T[] {
  return refs.filter(
    (r) =>
      r !== null &&
      typeof r === "object" &&
      typeof r.id === "string" &&
      isJobId(r.id) &&
      typeof r.leaseToken === "string",
  );
}

/**
 * The fence of every worker write, written without a join: rows are found through the primary key
 * (`id = ANY($1)`) and each row's token is looked up in `$2`, a JSON object from id to
 * `[token, ...values]` (see {@link leaseMap}): a keyed lookup, where a search of a parallel array
 * per row would make a batch cost grow with its square. A join with the input (`FROM unnest(...)`)
 * plans badly on a freshly loaded, never analyzed table, and `state = 'running'` written plainly
 * lets the planner walk the running index, which fills with dead entries while jobs complete; the
 * sub-select keeps it on the primary key.
 */
export const HELD = `j.id = ANY($1::bigint[]) AND j.lease_token = ($2::jsonb -> j.id::text ->> 0)
      AND j.state = (SELECT 'running'::text)`;

/** Value `i` (1-based after the token) of row `j`'s entry in the lease map `$2`, as jsonb. */
export function mapValue(i: number): string {
  return `($2::jsonb -> j.id::text -> ${i})`;
}

/**
 * The lease map parameter: `{"<id>": [token, ...values]}` as JSON text. `values` are JSON texts
 * (already encoded), placed as they are; a null value is left out of the entry, so that the
 * statement reads SQL NULL for it.
 */
export function leaseMap<T extends LeaseRef>(
  refs: readonly T[],
  values?: (ref: T) => Array<string | null>,
): string {
  const parts: string[] = [];
  for (const r of refs) {
    let entry = JSON.stringify(r.leaseToken);
    if (values !== undefined) {
      const vs = values(r);
      // Trailing nulls are dropped; inner ones stay JSON null (read back with NULLIF).
      let last = vs.length;
      while (last > 0 && vs[last - 1] === null) last--;
      for (let i = 0; i < last; i++) entry += `,${vs[i] ?? "null"}`;
    }
    // Keys are ids as PostgreSQL prints them (`j.id::text`): no leading zeros.
    parts.push(`"${r.id.replace(/^0+(?=\d)/, "")}":[${entry}]`);
  }
  return `{${parts.join(",")}}`;
}

/**
 * Ids (already checked with isJobId: digits only) as one bigint[] array literal: one string
 * parameter, where an array parameter makes the driver escape every element.
 */
export function idArray(refs: ReadonlyArray<{ id: string }>): string {
  let out = "{";
  for (let i = 0; i < refs.length; i++) out += i === 0 ? refs[i]!.id : `,${refs[i]!.id}`;
  return `${out}}`;
}

/** A failure's retry time as the ISO text the fail statement reads. */
function retryTime(at: unknown): string {
  return checkDate(
    "TEND_E_INVALID_STORE_ARGUMENT",
    "retryAt",
    at,
    "a valid Date, or null to discard",
  ).toISOString();
}

/** A failure's retry time (null: discard), from the fail statement's lease map (value 2). */
const RETRY_AT = `NULLIF(${mapValue(2)}, 'null'::jsonb) #>> '{}'`;

/** The ids of `refs` (input order, each once) that the statement reported as changed. */
export function inInputOrder(refs: readonly LeaseRef[], changed: ReadonlyArray<{ id: string }>): string[] {
  const set = new Set(changed.map((r) => r.id));
  const out: string[] = [];
  for (const r of refs) {
    if (set.delete(r.id)) out.push(r.id);
  }
  return out;
}

/**
 * Runs a fenced statement over `refs` and returns every row it reported. The lease map holds one
 * token per id, so refs naming one id twice (a stale and a current attempt) go in separate rounds,
 * each with distinct ids; in normal use there is one round.
 */
export async function fencedRun<T extends LeaseRef, R extends { id: string }>(
  ctx: PgContext,
  name: string,
  text: string,
  refs: readonly T[],
  values: (round: readonly T[]) => unknown[],
): Promise<R[]> {
  const rounds: T[][] = [];
  const seen = new Map<string, number>();
  for (const r of refs) {
    const round = seen.get(r.id) ?? 0;
    seen.set(r.id, round + 1);
    (rounds[round] ??= []).push(r);
  }
  const out: R[] = [];
  for (const round of rounds) {
    const { rows } = await ctx.run<R>(name, text, values(round));
    for (const row of rows) out.push(row);
  }
  return out;
}

/**
 * The claim statement ($1 queue, $2 limit, $3 worker id, $4 lease ms, $5 claim token, $6 how many
 * start at once). Its inner SELECT matches the claim index (queue, priority, run_at, id) WHERE
 * state IN pending exactly, so the planner walks the index in order even on a freshly loaded,
 * never analyzed table. A paused queue (a row of the queues table) yields nothing: the check
 * does not depend on the row, so it runs once per statement, one primary-key probe. Jobs under a
 * concurrency key or a rate limit are left to the limited claim (limited-claim.ts). Each row's lease token is the claim's random token joined with the job id:
 * unique per attempt without drawing random bytes per row (`gen_random_uuid()` per row was a tenth
 * of the claim's cost). The first $6 rows in claim order are marked started (`started_at`); the
 * others are claimed ahead with `started_at` NULL until the worker marks them (see
 * {@link markStartedJobs}), so that a rescue can tell them apart. The lease runs from the
 * statement's execution (`clock_timestamp()`): inside a capped claim's transaction `now()` is from
 * before the wait for the queue's claim lock. Rows come back in claim order
 * (priority, run_at, id), sorted by the columns themselves (`u.id`: a bare `id` would name the
 * output's text id, which sorts "10" before "9").
 *
 *
 * With `bucket` (see {@link claimBucket}), the scan's limit is that constant instead of `$2`, and
 * only the first `$2` rows it locked are claimed (the others are let go when the statement
 * commits). With its limit a parameter, PostgreSQL's generic plan of the statement assumes a tenth
 * of the table and joins the update with a hash join over a sequential scan, so it keeps planning
 * the statement afresh at every execution (a fifth of a short claim's time); with a constant
 * limit the generic plan is the custom one, chosen after five executions, and planning stops.
 *
 * @example
 * ```ts
 * await pool.query(`EXPLAIN ${claimSql(ctx)}`, ["default", 10, "w1", 30_000, randomUUID(), 10]);
 * ```
 */
export function claimSql(ctx: PgContext, bucket?: number): string {
  return `WITH c AS (
      SELECT id, priority, run_at FROM ${ctx.jobs}
      WHERE state IN ${PENDING} AND queue = $1 AND run_at <= now() AND NOT cancel_requested
        AND concurrency_key IS NULL AND rate_key IS NULL
        AND NOT EXISTS (SELECT 1 FROM ${ctx.queues} WHERE name = $1 AND paused)
      ORDER BY priority, run_at, id
      LIMIT ${bucket === undefined ? "$2" : String(bucket)}
      FOR UPDATE SKIP LOCKED
    ),
    n AS (SELECT id, row_number() OVER (ORDER BY priority, run_at, id) AS rank FROM c),
    u AS (
      UPDATE ${ctx.jobs} j SET
        state = 'running', attempt = j.attempt + 1, worker_id = $3,
        started_at = CASE WHEN n.rank <= $6 THEN now() END,
        lease_token = $5::text || '.' || j.id, lease_expires_at = clock_timestamp() + $4 * interval '1 millisecond'
      FROM n WHERE j.id = n.id AND ${bucket === undefined ? "" : "n.rank <= $2 AND "}${ASYNC_COMMIT}
      RETURNING j.id, j.kind, j.queue, j.payload, j.priority, j.run_at, j.attempt, j.max_attempts, j.lease_token,
        j.started_at IS NOT NULL AS started, j.trace_context, j.unstarted_losses > 0 AS suspect
    )
    SELECT id::text AS id, kind, queue, payload, attempt, max_attempts, lease_token, started, ${RUN_AT_MS}, trace_context,
      suspect
    FROM u ORDER BY u.priority, u.run_at, u.id`;
}

/**
 * Pure: the constant scan limit of a plain claim of `limit` jobs (see {@link claimSql}): the
 * smallest of 1, 2, 3, 4, 6, 8, 12, 16, ... (powers of two and one and a half times them) not
 * below `limit`, at most 10,000 (the largest claim). A claim locks at most a third more rows than
 * it takes, and a process uses a few such statements, each planned a few times per connection.
 *
 * @example
 * ```ts
 * claimBucket(110); // 128
 * claimBucket(450); // 512
 * ```
 */
export function claimBucket(limit: number): number {
  let power = 1;
  while (power < limit) {
    if (power * 1.5 >= limit) return Math.min(10_000, power * 1.5);
    power *= 2;
  }
  return Math.min(10_000, power);
}

/**
 * Claims up to `limit` runnable jobs of a queue (see JobStore.claim): the plain statement, or the
 * limited claim while the queue holds jobs under a concurrency key (see limited-claim.ts).
 *
 * @example
 * ```ts
 * const jobs = await claimJobs(ctx, { queue: "default", limit: 10, workerId: "w1", leaseMs: 30_000 });
 * ```
 */
export async function claimJobs(ctx: PgContext, request: ClaimRequest): Promise<ClaimedJob[]> {
  const limit = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "limit", request.limit, 1, 10_000);
  const leaseMs = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "leaseMs", request.leaseMs, 1, MAX_LEASE_MS);
  const start =
    request.start === undefined
      ? limit
      : checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "start", request.start, 0, 10_000);
  const values: [string, number, string, number, string, number] = [
    request.queue,
    limit,
    request.workerId,
    leaseMs,
    randomUUID(),
    start,
  ];
  const probe = await probeQueue(ctx, request.queue);
  if (probe.capped) {
    const capped = await claimCapped(ctx, values, probe.limited, claimSql(ctx), ctx.workerTimeoutMs);
    return markCapped(toClaimedJobs(capped.rows), capped.ratePeriodMs);
  }
  if (probe.limited) return toClaimedJobs(await claimLimited(ctx, values, ctx.workerTimeoutMs));
  const bucket = claimBucket(limit);
  const { rows } = await ctx.run<ClaimRow>(`claim.${bucket}`, claimSql(ctx, bucket), values);
  return toClaimedJobs(rows);
}

/**
 * The start mark statement ($1 ids, $2 the claim tokens of their lease tokens, $3 for each id the
 * 1-based position of its claim token in $2): a lease token is its claim's token and the job id
 * (see {@link claimSql}), so each row is fenced by its whole token, rebuilt from the few claim
 * tokens of the call and its position, without a per-row token list to send. It returns only a
 * count; the rare batch where some job is no longer held is asked again with its ids (see
 * {@link markStartedJobs}).
 */
function markStartedSql(ctx: PgContext, returning: boolean): string {
  return `UPDATE ${ctx.jobs} j SET started_at = COALESCE(j.started_at, now())
      FROM unnest($1::bigint[], $3::int[]) AS r (id, c)
      WHERE j.id = r.id AND j.lease_token = ($2::text[])[r.c] || '.' || r.id::text
        AND j.state = (SELECT 'running'::text) AND ${ASYNC_COMMIT}
      ${returning ? "RETURNING j.id::text AS id" : ""}`;
}

/**
 * Marks held jobs claimed ahead as started (see JobStore.markStarted). Committed without waiting
 * for the WAL flush, like the claim: if the server crashes before the flush, the job is at worst
 * rescued as never started (or its claim is lost with it), and its handler's outcome is fenced.
 *
 * @example
 * ```ts
 * const held = await markStartedJobs(ctx, [{ id, leaseToken }]);
 * ```
 */
export async function markStartedJobs(ctx: PgContext, leases: readonly LeaseRef[]): Promise<string[]> {
  const refs: LeaseRef[] = [];
  const claims: string[] = [];
  let positions = "{";
  let lastClaim = "";
  let lastPosition = 0;
  for (const r of leases) {
    if (r === null || typeof r !== "object" || typeof r.id !== "string" || typeof r.leaseToken !== "string")
      continue;
    // Only tokens of the form <claim>.<id> were ever handed out (ids as PostgreSQL prints them).
    const dot = r.leaseToken.length - r.id.length - 1;
    if (dot <= 0 || r.leaseToken.charCodeAt(dot) !== 46 || !r.leaseToken.endsWith(r.id) || !isJobId(r.id))
      continue;
    const claim = r.leaseToken.slice(0, dot);
    if (claim !== lastClaim) {
      const known = claims.indexOf(claim);
      lastPosition = known === -1 ? claims.push(claim) : known + 1;
      lastClaim = claim;
    }
    positions += refs.length === 0 ? String(lastPosition) : `,${lastPosition}`;
    refs.push(r);
  }
  if (refs.length === 0) return [];
  const values = [idArray(refs), claims, `${positions}}`];
  const { rowCount } = await ctx.run("mark_started", markStartedSql(ctx, false), values);
  if (rowCount === refs.length) return refs.map((r) => r.id);
  // Some job is no longer held (or a ref was repeated): ask which ones are.
  const { rows } = await ctx.run<{ id: string }>("mark_started_held", markStartedSql(ctx, true), values);
  return inInputOrder(refs, rows);
}

/**
 * Completes held jobs (see JobStore.complete).
 *
 * @example
 * ```ts
 * await completeJobs(ctx, [{ id, leaseToken, result: "null" }]);
 * ```
 */
export async function completeJobs(ctx: PgContext, completions: readonly Completion[]): Promise<string[]> {
  const refs = validRefs(completions);
  if (refs.length === 0) return [];
  const rows = await fencedRun<Completion, { id: string }>(
    ctx,
    "complete",
    `WITH u AS (
      UPDATE ${ctx.jobs} j SET state = 'completed', result = ${mapValue(1)}, finished_at = now(),
        started_at = COALESCE(j.started_at, now()),
        lease_token = NULL, lease_expires_at = NULL
      WHERE ${HELD}
      RETURNING j.id, j.batch_id, j.state
    )${batchNotify("$3")}
    SELECT id::text AS id, (SELECT count(*) FROM notified) AS n FROM u`,
    refs,
    (round) => [idArray(round), leaseMap(round, (r) => [r.result]), ctx.channels.batch],
  );
  return inInputOrder(refs, rows);
}

/**
 * Records failures (see JobStore.fail). A job whose cancel was requested becomes cancelled
 * instead of retryable. A retry due now notifies its queue's workers (every process), as SQLite's
 * store wakes its own.
 *
 * @example
 * ```ts
 * await failJobs(ctx, [{ id, leaseToken, error, retryAt: new Date(Date.now() + 1000) }]);
 * ```
 */
export async function failJobs(ctx: PgContext, failures: readonly Failure[]): Promise<string[]> {
  const refs = validRefs(failures);
  if (refs.length === 0) return [];
  const rows = await fencedRun<Failure, { id: string }>(
    ctx,
    "fail",
    `WITH u AS (
      UPDATE ${ctx.jobs} j SET
        state = CASE WHEN ${RETRY_AT} IS NULL THEN 'discarded' WHEN j.cancel_requested THEN 'cancelled' ELSE 'retryable' END,
        run_at = COALESCE((${RETRY_AT})::timestamptz, j.run_at),
        errors = j.errors || jsonb_build_array(${mapValue(1)}),
        finished_at = CASE WHEN ${RETRY_AT} IS NULL OR j.cancel_requested THEN now() END,
        worker_id = CASE WHEN ${RETRY_AT} IS NULL THEN j.worker_id END,
        started_at = COALESCE(j.started_at, now()),
        lease_token = NULL, lease_expires_at = NULL
      WHERE ${HELD}
      RETURNING j.id, j.batch_id, j.state, j.queue, j.run_at
    )${batchNotify("$3")},
    -- A retry due now wakes the queue's workers in every process, as an insert does.
    woken AS (
      SELECT pg_notify($4, q.queue) FROM (SELECT DISTINCT queue FROM u WHERE state = 'retryable' AND run_at <= now()) q
    )
    SELECT id::text AS id, (SELECT count(*) FROM notified) + (SELECT count(*) FROM woken) AS n FROM u`,
    refs,
    (round) => [
      idArray(round),
      leaseMap(round, (r) => [
        JSON.stringify(r.error),
        r.retryAt === null ? null : JSON.stringify(retryTime(r.retryAt)),
      ]),
      ctx.channels.batch,
      ctx.channels.jobs,
    ],
  );
  return inInputOrder(refs, rows);
}

/**
 * Extends held leases (see JobStore.heartbeat). Results are in input order, one per ref.
 *
 * @example
 * ```ts
 * const [state] = await heartbeatJobs(ctx, [lease], 30_000);
 * ```
 */
export async function heartbeatJobs(
  ctx: PgContext,
  leases: readonly LeaseRef[],
  leaseMs: number,
): Promise<HeartbeatResult[]> {
  checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "leaseMs", leaseMs, 1, MAX_LEASE_MS);
  const refs = validRefs(leases);
  const held = new Map<string, { cancel: boolean; renewed: boolean }>();
  if (refs.length > 0) {
    // A held row that another transaction has locked (a caller's transaction that enqueued a
    // dependent of this running job, until it commits) is skipped rather than waited for: waiting
    // would hold back the renewal of every other job of the batch, whose leases could then lapse
    // while they run. Such a row is reported held (it is) and renewed by a later heartbeat.
    const rows = await fencedRun<
      LeaseRef,
      { id: string; token: string; cancel_requested: boolean; renewed: boolean }
    >(
      ctx,
      "heartbeat",
      `WITH free AS (
        SELECT j.id FROM ${ctx.jobs} j WHERE ${HELD} FOR NO KEY UPDATE SKIP LOCKED
      ),
      renewed AS (
        UPDATE ${ctx.jobs} j SET lease_expires_at = now() + $3 * interval '1 millisecond'
        WHERE j.id = ANY(ARRAY(SELECT id FROM free)) AND ${HELD} AND ${ASYNC_COMMIT}
        RETURNING j.id, j.lease_token AS token, j.cancel_requested
      )
      SELECT id::text AS id, token, cancel_requested, true AS renewed FROM renewed
      UNION ALL
      SELECT j.id::text AS id, j.lease_token AS token, j.cancel_requested, false AS renewed FROM ${ctx.jobs} j
      WHERE ${HELD} AND NOT j.id = ANY(ARRAY(SELECT id FROM free))`,
      refs,
      (round) => [idArray(round), leaseMap(round), leaseMs],
    );
    for (const row of rows)
      held.set(`${row.id}\0${row.token}`, { cancel: row.cancel_requested, renewed: row.renewed });
  }
  return leases.map((ref) => {
    const found = held.get(`${ref?.id}\0${ref?.leaseToken}`);
    return {
      id: ref?.id,
      held: found !== undefined,
      cancelRequested: found?.cancel === true,
      ...(found?.renewed === false ? { renewed: false } : {}),
    };
  });
}

/**
 * Returns held jobs to available without spending the attempt (see JobStore.release); wakes
 * listeners of their queues. A job whose cancel was requested becomes cancelled instead.
 *
 * @example
 * ```ts
 * await releaseJobs(ctx, leases);
 * ```
 */
export async function releaseJobs(ctx: PgContext, leases: readonly LeaseRef[]): Promise<string[]> {
  const refs = validRefs(leases);
  if (refs.length === 0) return [];
  const rows = await fencedRun<LeaseRef, { id: string }>(
    ctx,
    "release",
    `WITH u AS (
      UPDATE ${ctx.jobs} j SET
        state = CASE WHEN j.cancel_requested THEN 'cancelled' ELSE 'available' END,
        finished_at = CASE WHEN j.cancel_requested THEN now() END,
        attempt = GREATEST(j.attempt - 1, 0), started_at = NULL, worker_id = NULL,
        lease_token = NULL, lease_expires_at = NULL
      WHERE ${HELD}
      RETURNING j.id, j.queue, j.batch_id, j.state
    )${batchNotify("$4")},
    woken AS (SELECT pg_notify($3, q.queue) FROM (SELECT DISTINCT queue FROM u WHERE state = 'available') q)
    SELECT id::text AS id, (SELECT count(*) FROM notified) + (SELECT count(*) FROM woken) AS n FROM u`,
    refs,
    (round) => [idArray(round), leaseMap(round), ctx.channels.jobs, ctx.channels.batch],
  );
  return inInputOrder(refs, rows);
}

/**
 * Marks held jobs cancelled, recording `reason` as the attempt's error (see JobStore.markCancelled).
 *
 * @example
 * ```ts
 * await markCancelledJobs(ctx, [lease], "cancel requested");
 * ```
 */
export async function markCancelledJobs(
  ctx: PgContext,
  leases: readonly LeaseRef[],
  reason: string,
): Promise<string[]> {
  const refs = validRefs(leases);
  if (refs.length === 0) return [];
  const rows = await fencedRun<LeaseRef, { id: string }>(
    ctx,
    "mark_cancelled",
    `WITH u AS (
      UPDATE ${ctx.jobs} j SET state = 'cancelled', finished_at = now(),
        errors = j.errors || jsonb_build_array(jsonb_build_object(
          'attempt', j.attempt, 'at', ${NOW_ISO}, 'message', $3::text, 'code', 'TEND_E_JOB_CANCELLED')),
        lease_token = NULL, lease_expires_at = NULL
      WHERE ${HELD}
      RETURNING j.id, j.batch_id, j.state
    )${batchNotify("$4")}
    SELECT id::text AS id, (SELECT count(*) FROM notified) AS n FROM u`,
    refs,
    (round) => [idArray(round), leaseMap(round), String(reason), ctx.channels.batch],
  );
  return inInputOrder(refs, rows);
}
