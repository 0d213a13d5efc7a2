import { invalidArgument } from "../errors/tend-error.ts";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, type JobDefinition, toMs } from "./definition.ts";
import { DEFAULT_MAX_LOST, type NewJob } from "./model.ts";
import { checkInt, checkKind, checkQueue, encodeJson } from "./validate.ts";

/** Options of one enqueued job. */
export interface EnqueueOptions {
  /** Queue (default: the kind's queue if this process defined the kind, else `default`). */
  queue?: string;
  /** Lower runs first (default: the kind's priority, else 0). */
  priority?: number;
  /** Earliest time to run. */
  runAt?: Date;
  /** Delay before the job may run: ms or a duration like "5m". Ignored when runAt is given. */
  delay?: number | string;
  /** Attempts before discarding (default: the kind's, else 10). */
  maxAttempts?: number;
  /** Lost or hung attempts before discarding as poisoned (default: the kind's, else the app's, else 3). */
  maxLost?: number;
  /** While a pending or running job holds this key, another enqueue with it inserts nothing and returns that job's id. */
  uniqueKey?: string;
  /**
   * The caller's open transaction: a `pg` client inside BEGIN (PostgreSQL) or a `node:sqlite`
   * DatabaseSync inside BEGIN (SQLite). The job then exists if and only if that transaction commits.
   */
  tx?: unknown;
}

/** One item of `enqueueMany`. */
export interface EnqueueItem extends Omit<EnqueueOptions, "tx"> {
  kind: string;
  payload?: unknown;
}

/** Builds a validated NewJob. Pure apart from reading the clock through `now`. */
export function buildNewJob(
  kind: string,
  payload: unknown,
  options: EnqueueOptions,
  definition: JobDefinition | undefined,
  limits: { maxPayloadBytes: number; now: number; maxLost?: number | undefined },
  batch: { batchId: string; batchIndex: number } | null = null,
): NewJob {
  checkKind(kind);
  if (options === null || typeof options !== "object") {
    throw invalidArgument("TEND_E_INVALID_JOB_OPTIONS", "enqueue options", options, "an object");
  }
  const queue =
    options.queue === undefined ? (definition?.queue ?? DEFAULT_QUEUE) : checkQueue(options.queue);
  const priority =
    options.priority === undefined
      ? (definition?.priority ?? 0)
      : checkInt("priority", options.priority, -32768, 32767);
  const maxAttempts =
    options.maxAttempts === undefined
      ? (definition?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)
      : checkInt("maxAttempts", options.maxAttempts, 1, 1000);
  const maxLost =
    options.maxLost === undefined
      ? (definition?.maxLost ?? limits.maxLost ?? DEFAULT_MAX_LOST)
      : checkInt("maxLost", options.maxLost, 1, 1000);
  let runAt: Date;
  if (options.runAt !== undefined) {
    if (!(options.runAt instanceof Date) || Number.isNaN(options.runAt.getTime())) {
      throw invalidArgument("TEND_E_INVALID_JOB_OPTIONS", "runAt", options.runAt, "a valid Date");
    }
    runAt = options.runAt;
  } else if (options.delay !== undefined) {
    runAt = new Date(limits.now + toMs("delay", options.delay));
  } else {
    runAt = new Date(limits.now);
  }
  let uniqueKey: string | null = null;
  if (options.uniqueKey !== undefined) {
    if (
      typeof options.uniqueKey !== "string" ||
      options.uniqueKey.length === 0 ||
      options.uniqueKey.length > 512
    ) {
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        "uniqueKey",
        options.uniqueKey,
        "a string of 1-512 characters",
      );
    }
    uniqueKey = options.uniqueKey;
  }
  return {
    kind,
    queue,
    payload: encodeJson(`payload of job kind "${kind}"`, payload, limits.maxPayloadBytes),
    priority,
    runAt,
    maxAttempts,
    uniqueKey,
    batchId: batch?.batchId ?? null,
    batchIndex: batch?.batchIndex ?? null,
    maxLost,
  };
}
