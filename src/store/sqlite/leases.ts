import { checkDate, checkInteger, checkString } from "../../errors/index.ts";
import { MAX_LEASE_MS } from "../args.ts";
import type {
  ClaimedJob,
  ClaimRequest,
  Completion,
  Failure,
  HeartbeatResult,
  LeaseRef,
} from "../job-model.ts";
import type { SqliteContext, Wakeup } from "./context.ts";
import { markCapped, queueAllowance } from "../queue-limits.ts";
import { hasLimitedJobs, pickLimited } from "./limited-claim.ts";
import { ANY_CHANGE } from "./notifier.ts";
import { noteSettledParent } from "./settled-parents.ts";
import { countQueueStarts, queueCap } from "./queues.ts";
import { discardUnreadableRows, isUnsafeInteger } from "./unreadable-rows.ts";
import { type Row, rowToClaimed, toRowId } from "./rows.ts";

/** The (rowid, token) a lease ref names; a malformed ref names no row (rowid -1). */
export function ref(r: LeaseRef): [number, string] {
  if (r === null || typeof r !== "object" || typeof r.leaseToken !== "string") return [-1, ""];
  return [toRowId(r.id), r.leaseToken];
}

/**
 * The claim statement for the jobs table `jobs`: ?1 now, ?2 worker id, ?3 lease expiry, ?4 queue,
 * ?5 limit, on the queue settings table `queues` (a paused queue yields nothing). Its sub-select
 * matches the partial claim index exactly (queue, priority, run_at, id
 * WHERE state IN the pending states), so it walks the index in claim order and stops at the limit.
 *
 * @example
 * ```ts
 * db.prepare(claimSql('"tend_jobs"', '"tend_queues"')).all(Date.now(), "worker-1", Date.now() + 30_000, "default", 10);
 * ```
 */
export function claimSql(jobs: string, queues: string): string {
  return `UPDATE ${jobs}
     SET state = 'running', attempt = attempt + 1, started_at = NULL, worker_id = ?2,
         lease_token = lower(hex(randomblob(16))), lease_expires_at = ?3
   WHERE id IN (
           SELECT id FROM ${jobs}
            WHERE queue = ?4 AND state IN ('available', 'scheduled', 'retryable') AND run_at <= ?1
              AND cancel_requested = 0 AND concurrency_key IS NULL AND rate_key IS NULL
              AND NOT EXISTS (SELECT 1 FROM ${queues} WHERE name = ?4 AND paused = 1)
            ORDER BY priority, run_at, id
            LIMIT ?5)
   RETURNING id, kind, queue, payload, priority, attempt, max_attempts, lease_token, run_at, trace_context,
     unstarted_losses`;
}

/** Claims the rows picked by the limited claim (?1 worker id, ?2 lease expiry, ?3 their ids, a JSON array). */
function claimPickedSql(jobs: string): string {
  return `UPDATE ${jobs}
     SET state = 'running', attempt = attempt + 1, started_at = NULL, worker_id = ?1,
         lease_token = lower(hex(randomblob(16))), lease_expires_at = ?2
   WHERE id IN (SELECT value FROM json_each(?3))
   RETURNING id, kind, queue, payload, priority, attempt, max_attempts, lease_token, run_at, trace_context,
     concurrency_key, rate_period_ms, unstarted_losses`;
}

/** Marks one claimed row started (?1 now, ?2 id); in the claim's transaction. */
function startSql(jobs: string): string {
  return `UPDATE ${jobs} SET started_at = ?1 WHERE id = ?2`;
}

/**
 * Claims up to `limit` runnable jobs in one statement: the sub-select walks the claim index in
 * (priority, run_at, id) order; the UPDATE gives each row its own random lease token. The claim
 * leaves `started_at` NULL; in the same transaction the first `start` rows in claim order are
 * marked started, the others stay claimed ahead until `markStarted` (see JobStore.claim).
 *
 * @example
 * ```ts
 * const claimed = await claimJobs(ctx, { queue: "default", limit: 10, workerId: "w1", leaseMs: 30_000 });
 * ```
 */
export async function claimJobs(ctx: SqliteContext, req: ClaimRequest): Promise<ClaimedJob[]> {
  const asked = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "limit", req.limit, 1, 10_000);
  const leaseMs = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "leaseMs", req.leaseMs, 1, MAX_LEASE_MS);
  const queue = checkString("TEND_E_INVALID_STORE_ARGUMENT", "queue", req.queue);
  const workerId = checkString("TEND_E_INVALID_STORE_ARGUMENT", "workerId", req.workerId);
  const startAsked =
    req.start === undefined
      ? asked
      : checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "start", req.start, 0, 10_000);
  const claim = ctx.stmt(claimSql(ctx.t.jobs, ctx.t.queues));
  const mark = ctx.stmt(startSql(ctx.t.jobs));
  let capped: { ratePeriodMs: number | null } | null = null;
  const run = (): Row[] => {
    const now = ctx.now();
    let claimed: Row[];
    // A queue with limits of its own takes no more than they allow (see queueAllowance).
    const cap = queueCap(ctx, queue, now);
    let limit = asked;
    let start = startAsked;
    if (cap !== null) {
      ({ limit, start } = queueAllowance(asked, startAsked, cap));
      capped = { ratePeriodMs: cap.ratePeriodMs };
      if (limit === 0) return [];
    }
    if (hasLimitedJobs(ctx, queue)) {
      // Jobs under a concurrency key: picked key by key, claimed in one statement, in round-robin order.
      const picked = pickLimited(ctx, now, queue, limit, start);
      const order = new Map(picked.map((id, at) => [id, at]));
      claimed = (
        ctx.stmt(claimPickedSql(ctx.t.jobs)).all(workerId, now + leaseMs, JSON.stringify(picked)) as Row[]
      ).sort((a, b) => order.get(Number(a["id"]))! - order.get(Number(b["id"]))!);
    } else {
      claimed = claim.all(now, workerId, now + leaseMs, queue, limit) as Row[];
      claimed.sort(
        (a, b) =>
          Number(a["priority"]) - Number(b["priority"]) ||
          Number(a["run_at"]) - Number(b["run_at"]) ||
          Number(a["id"]) - Number(b["id"]),
      );
    }
    for (let i = 0; i < claimed.length && i < start; i++) {
      mark.run(now, claimed[i]!["id"] as number);
      claimed[i]!["started_at"] = now;
    }
    const started = Math.min(claimed.length, start);
    if (cap?.ratePeriodMs != null && cap.rateLimit !== null && started > 0)
      countQueueStarts(ctx, queue, now, cap.ratePeriodMs, started);
    return claimed;
  };
  let rows: Row[];
  try {
    rows = await ctx.write(run, true);
  } catch (err) {
    // A row holding an integer beyond 2^53 (changed outside tend) fails every claim of its queue:
    // it is discarded with the reason recorded, and the claim runs again once.
    if (!isUnsafeInteger(err) || (await discardUnreadableRows(ctx, queue)) === 0) throw err;
    rows = await ctx.write(run, true);
  }
  const jobs = rows.map(rowToClaimed);
  return capped === null ? jobs : markCapped(jobs, (capped as { ratePeriodMs: number | null }).ratePeriodMs);
}

/**
 * Marks held jobs claimed ahead as started (see JobStore.markStarted); returns the ids still held.
 * Relaxed like a claim: losing it to a power cut only makes the job count as never started.
 *
 * @example
 * ```ts
 * const held = await markStartedJobs(ctx, [{ id, leaseToken }]);
 * ```
 */
export async function markStartedJobs(ctx: SqliteContext, leases: readonly LeaseRef[]): Promise<string[]> {
  if (leases.length === 0) return [];
  const stmt = ctx.stmt(
    `UPDATE ${ctx.t.jobs} SET started_at = COALESCE(started_at, ?)
      WHERE id = ? AND lease_token = ? AND state = 'running'
      RETURNING id`,
  );
  return await ctx.write(() => {
    const now = ctx.now();
    const ids: string[] = [];
    for (const l of leases) {
      if (stmt.get(now, ...ref(l)) !== undefined) ids.push(l.id);
    }
    return ids;
  }, true);
}

/**
 * Completes held jobs; stale refs are skipped.
 *
 * @example
 * ```ts
 * const done = await completeJobs(ctx, [{ id: job.id, leaseToken: job.leaseToken, result: "{\"ok\":true}" }]);
 * ```
 */
export async function completeJobs(
  ctx: SqliteContext,
  completions: readonly Completion[],
): Promise<string[]> {
  const stmt = ctx.stmt(
    `UPDATE ${ctx.t.jobs}
        SET state = 'completed', result = ?1, finished_at = ?2, started_at = COALESCE(started_at, ?2),
            lease_token = NULL, lease_expires_at = NULL
      WHERE id = ?3 AND lease_token = ?4 AND state = 'running'
      RETURNING batch_id, has_dependents`,
  );
  const wakeups: Wakeup[] = [];
  const done = await ctx.write(() => {
    const now = ctx.now();
    const ids: string[] = [];
    let released = false;
    for (const c of completions) {
      const row = stmt.get(c.result, now, ...ref(c)) as Row | undefined;
      if (row === undefined) continue;
      ids.push(c.id);
      if (row["batch_id"] !== null) wakeups.push({ channel: "batch", payload: String(row["batch_id"]) });
      // Its dependents may have become runnable (the settle trigger): wake this process's workers.
      if (row["has_dependents"] === 1 && !released) {
        released = true;
        wakeups.push({ channel: "jobs", payload: ANY_CHANGE });
      }
    }
    return ids;
  });
  ctx.emit(wakeups);
  return done;
}

/**
 * Records failures: retryable at retryAt, or discarded when retryAt is null. A job whose cancel
 * was requested while it ran becomes cancelled instead of retryable (the claim never takes a job
 * with a cancel request, so a retryable one would wait forever).
 *
 * @example
 * ```ts
 * await failJobs(ctx, [{ id, leaseToken, error: { attempt: 1, at: new Date().toISOString(), message: "boom" }, retryAt: null }]);
 * ```
 */
export async function failJobs(ctx: SqliteContext, failures: readonly Failure[]): Promise<string[]> {
  const stmt = ctx.stmt(
    `UPDATE ${ctx.t.jobs}
        SET state = CASE WHEN ?1 IS NULL THEN 'discarded' WHEN cancel_requested THEN 'cancelled' ELSE 'retryable' END,
            run_at = COALESCE(?1, run_at),
            finished_at = CASE WHEN ?1 IS NULL OR cancel_requested THEN ?2 ELSE NULL END,
            worker_id = CASE WHEN ?1 IS NULL THEN worker_id END,
            started_at = COALESCE(started_at, ?2),
            errors = json_insert(errors, '$[#]', json(?3)),
            lease_token = NULL, lease_expires_at = NULL
      WHERE id = ?4 AND lease_token = ?5 AND state = 'running'
      RETURNING queue, state, batch_id, has_dependents`,
  );
  // As on PostgreSQL: an invalid retry time is refused, never bound (SQLite stores NaN as NULL,
  // which would discard the job).
  for (const f of failures)
    if (f?.retryAt !== null)
      checkDate("TEND_E_INVALID_STORE_ARGUMENT", "retryAt", f?.retryAt, "a valid Date, or null to discard");
  const wakeups: Wakeup[] = [];
  const done = await ctx.write(() => {
    const now = ctx.now();
    const ids: string[] = [];
    for (const f of failures) {
      const retryAt = f.retryAt === null ? null : f.retryAt.getTime();
      const row = stmt.get(retryAt, now, JSON.stringify(f.error), ...ref(f)) as Row | undefined;
      if (row === undefined) continue;
      ids.push(f.id);
      if (row["state"] === "discarded" || row["state"] === "cancelled") {
        if (row["batch_id"] !== null) wakeups.push({ channel: "batch", payload: String(row["batch_id"]) });
        noteSettledParent(row, wakeups);
      }
      if (row["state"] === "retryable" && retryAt !== null && retryAt <= now)
        wakeups.push({ channel: "jobs", payload: String(row["queue"]) });
    }
    return ids;
  });
  ctx.emit(wakeups);
  return done;
}

/**
 * Extends held leases; reports held and cancel-requested for each ref, in input order.
 *
 * @example
 * ```ts
 * const [beat] = await heartbeatJobs(ctx, [{ id, leaseToken }], 30_000); // beat.held, beat.cancelRequested
 * ```
 */
export async function heartbeatJobs(
  ctx: SqliteContext,
  leases: readonly LeaseRef[],
  leaseMs: number,
): Promise<HeartbeatResult[]> {
  checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "leaseMs", leaseMs, 1, MAX_LEASE_MS);
  if (leases.length === 0) return [];
  const stmt = ctx.stmt(
    `UPDATE ${ctx.t.jobs} SET lease_expires_at = ?
      WHERE id = ? AND lease_token = ? AND state = 'running'
      RETURNING cancel_requested`,
  );
  return await ctx.write(() => {
    const expires = ctx.now() + leaseMs;
    return leases.map((l) => {
      const row = stmt.get(expires, ...ref(l)) as Row | undefined;
      return {
        id: l.id,
        held: row !== undefined,
        cancelRequested: row !== undefined && Number(row["cancel_requested"]) !== 0,
      };
    });
  }, true);
}

/**
 * Returns held jobs to available without spending the attempt. A job whose cancel was requested
 * is cancelled instead (nobody would ever claim it again).
 *
 * @example
 * ```ts
 * await releaseJobs(ctx, [{ id, leaseToken }]);
 * ```
 */
export async function releaseJobs(ctx: SqliteContext, leases: readonly LeaseRef[]): Promise<string[]> {
  const stmt = ctx.stmt(
    `UPDATE ${ctx.t.jobs}
        SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'available' END,
            attempt = MAX(attempt - 1, 0),
            finished_at = CASE WHEN cancel_requested = 1 THEN ?1 ELSE NULL END,
            started_at = NULL, worker_id = NULL, lease_token = NULL, lease_expires_at = NULL
      WHERE id = ?2 AND lease_token = ?3 AND state = 'running'
      RETURNING queue, state, batch_id`,
  );
  const wakeups: Wakeup[] = [];
  const done = await ctx.write(() => {
    const now = ctx.now();
    const ids: string[] = [];
    for (const l of leases) {
      const row = stmt.get(now, ...ref(l)) as Row | undefined;
      if (row === undefined) continue;
      ids.push(l.id);
      if (row["state"] === "available") wakeups.push({ channel: "jobs", payload: String(row["queue"]) });
      else if (row["batch_id"] !== null) wakeups.push({ channel: "batch", payload: String(row["batch_id"]) });
    }
    return ids;
  });
  ctx.emit(wakeups);
  return done;
}

/**
 * Marks held jobs cancelled, recording `reason` for the attempt (code TEND_E_JOB_CANCELLED).
 *
 * @example
 * ```ts
 * await markCancelledJobs(ctx, [{ id, leaseToken }], "cancel requested");
 * ```
 */
export async function markCancelledJobs(
  ctx: SqliteContext,
  leases: readonly LeaseRef[],
  reason: string,
): Promise<string[]> {
  const stmt = ctx.stmt(
    `UPDATE ${ctx.t.jobs}
        SET state = 'cancelled', finished_at = ?1,
            errors = json_insert(errors, '$[#]',
              json_object('attempt', attempt, 'at', ?2, 'message', ?3, 'code', 'TEND_E_JOB_CANCELLED')),
            lease_token = NULL, lease_expires_at = NULL
      WHERE id = ?4 AND lease_token = ?5 AND state = 'running'
      RETURNING batch_id, has_dependents`,
  );
  const wakeups: Wakeup[] = [];
  const done = await ctx.write(() => {
    const now = ctx.now();
    const at = new Date(now).toISOString();
    const ids: string[] = [];
    for (const l of leases) {
      const row = stmt.get(now, at, reason, ...ref(l)) as Row | undefined;
      if (row === undefined) continue;
      ids.push(l.id);
      if (row["batch_id"] !== null) wakeups.push({ channel: "batch", payload: String(row["batch_id"]) });
      noteSettledParent(row, wakeups);
    }
    return ids;
  });
  ctx.emit(wakeups);
  return done;
}
