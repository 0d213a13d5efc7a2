import type { ClaimedJob, JobError, JobRecord, JobState, Json } from "../job-model.ts";

/** A row as node:sqlite returns it. */
export type Row = Record<string, unknown>;

/** Every column of the jobs table, in the order `rowToJob` reads them. */
export const JOB_COLUMNS =
  "id, kind, queue, payload, priority, state, run_at, attempt, max_attempts, unique_key, errors, result, " +
  "created_at, started_at, finished_at, worker_id, lease_token, lease_expires_at, cancel_requested, batch_id, batch_index, " +
  "lost, max_lost, progress, concurrency_key, concurrency_limit, rate_limit, rate_period_ms";

/**
 * Pure: an id string to the SQLite rowid it names, or -1 (matches nothing) when it is not one.
 *
 * @example
 * ```ts
 * toRowId("42"); // 42
 * toRowId("x"); // -1
 * ```
 */
export function toRowId(id: string): number {
  return typeof id === "string" && /^[0-9]{1,15}$/.test(id) ? Number(id) : -1;
}

function num(v: unknown): number {
  return typeof v === "bigint" ? Number(v) : (v as number);
}

function str(v: unknown): string {
  return v as string;
}

function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function dateOrNull(v: unknown): Date | null {
  return v === null || v === undefined ? null : new Date(num(v));
}

/** Parses stored JSON text; a corrupt value becomes null rather than failing the whole read. */
function parseJson(text: unknown): Json {
  if (typeof text !== "string") return null;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return null;
  }
}

/**
 * A claimed job's payload; a stored payload that is not JSON text (a row changed outside tend)
 * is reported as `payloadError`, so that the attempt fails with TEND_E_INVALID_PAYLOAD instead of
 * its handler running on null.
 */
function claimedPayload(text: unknown): { payload: Json; payloadError?: string } {
  if (typeof text !== "string")
    return {
      payload: null,
      payloadError: `the stored payload is not JSON text (${text === null ? "NULL" : typeof text})`,
    };
  try {
    return { payload: JSON.parse(text) as Json };
  } catch (err) {
    return {
      payload: null,
      payloadError: `the stored payload is not valid JSON (${(err as Error).message})`,
    };
  }
}

function parseErrors(text: unknown): JobError[] {
  const value = parseJson(text);
  return Array.isArray(value) ? (value as unknown as JobError[]) : [];
}

/**
 * Maps a full jobs row (selected with JOB_COLUMNS) to a JobRecord.
 *
 * @example
 * ```ts
 * const job = rowToJob(db.prepare(`SELECT ${JOB_COLUMNS} FROM tend_jobs WHERE id = ?`).get(42)!);
 * ```
 */
export function rowToJob(row: Row): JobRecord {
  return {
    id: String(row["id"]),
    kind: str(row["kind"]),
    queue: str(row["queue"]),
    payload: parseJson(row["payload"]),
    priority: num(row["priority"]),
    state: str(row["state"]) as JobState,
    runAt: new Date(num(row["run_at"])),
    attempt: num(row["attempt"]),
    maxAttempts: num(row["max_attempts"]),
    lost: num(row["lost"]),
    maxLost: num(row["max_lost"]),
    uniqueKey: strOrNull(row["unique_key"]),
    errors: parseErrors(row["errors"]),
    result: row["result"] === null || row["result"] === undefined ? null : parseJson(row["result"]),
    createdAt: new Date(num(row["created_at"])),
    startedAt: dateOrNull(row["started_at"]),
    finishedAt: dateOrNull(row["finished_at"]),
    workerId: strOrNull(row["worker_id"]),
    leaseToken: strOrNull(row["lease_token"]),
    leaseExpiresAt: dateOrNull(row["lease_expires_at"]),
    cancelRequested: num(row["cancel_requested"]) !== 0,
    batchId: strOrNull(row["batch_id"]),
    batchIndex:
      row["batch_index"] === null || row["batch_index"] === undefined ? null : num(row["batch_index"]),
    progress: row["progress"] === null || row["progress"] === undefined ? null : parseJson(row["progress"]),
    concurrencyKey: strOrNull(row["concurrency_key"] ?? null),
    concurrencyLimit: row["concurrency_limit"] == null ? null : num(row["concurrency_limit"]),
    rateLimit:
      row["rate_limit"] == null || row["rate_period_ms"] == null
        ? null
        : { limit: num(row["rate_limit"]), periodMs: num(row["rate_period_ms"]) },
  };
}

/**
 * Maps a row returned by the claim statement to a ClaimedJob.
 *
 * @example
 * ```ts
 * const claimed = rows.map(rowToClaimed);
 * ```
 */
export function rowToClaimed(row: Row): ClaimedJob {
  return {
    id: String(row["id"]),
    kind: str(row["kind"]),
    queue: str(row["queue"]),
    ...claimedPayload(row["payload"]),
    attempt: num(row["attempt"]),
    maxAttempts: num(row["max_attempts"]),
    leaseToken: str(row["lease_token"]),
    started: row["started_at"] !== null && row["started_at"] !== undefined,
    runAt: new Date(num(row["run_at"])),
    traceContext: row["trace_context"] == null ? null : str(row["trace_context"]),
    ...(row["concurrency_key"] == null ? {} : { concurrencyKey: str(row["concurrency_key"]) }),
    ...(row["rate_period_ms"] == null ? {} : { ratePeriodMs: num(row["rate_period_ms"]) }),
    ...(Number(row["unstarted_losses"] ?? 0) > 0 ? { suspect: true } : {}),
  };
}
