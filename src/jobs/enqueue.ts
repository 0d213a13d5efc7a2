import {
  checkDate,
  checkInteger,
  checkObject,
  invalidArgument,
  isArrayValue,
  optionKeys,
  TendError,
} from "../errors/index.ts";
import { type Duration, parseDuration } from "../lifecycle/index.ts";
import {
  isJobId,
  DEFAULT_MAX_LOST,
  type NewJob,
  PARENT_FAILURE_POLICIES,
  type ParentFailurePolicy,
  UNIQUE_MODES,
  type UniqueMode,
} from "../store/index.ts";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, type JobDefinition } from "./definition.ts";
import { MAX_DELAY_MS } from "./backoff.ts";
import { checkRateLimit, type RateLimitOptions } from "./rate-limit.ts";
import { checkConcurrencyKey, checkKind, checkQueue, encodeJson, POSITIVE_DURATION } from "./validate.ts";

/** The earliest and latest `runAt` (0001-01-01 and the end of 9999-12-31, UTC). */
const MIN_RUN_AT = Date.parse("0001-01-01T00:00:00.000Z");
const MAX_RUN_AT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Options of one enqueued job. */
export interface EnqueueOptions {
  /** Queue (default: the kind's queue if this process defined the kind, else `default`). */
  queue?: string;
  /** Lower runs first (default: the kind's priority, else 0). */
  priority?: number;
  /** Earliest time to run. */
  runAt?: Date;
  /** Delay before the job may run: ms or a duration like "5m". Ignored when runAt is given. */
  delay?: Duration;
  /** Attempts before discarding (default: the kind's, else 10). */
  maxAttempts?: number;
  /** Lost or hung attempts before discarding as poisoned (default: the kind's, else the app's, else 3). */
  maxLost?: number;
  /** While a pending or running job holds this key, another enqueue with it inserts nothing and returns that job's id. */
  uniqueKey?: string;
  /**
   * What to do when a job holds `uniqueKey` (requires it): `"keep"` (default) leaves the holder as
   * it is; `"debounce"` gives a pending holder this payload and this job's run time (now, or
   * `delay`/`runAt`), pushing its run out; `"throttle"` gives a pending holder this payload and
   * keeps its run time. A running holder is always kept. The result's `outcome` says which
   * happened: `inserted`, `kept` or `replaced`.
   */
  uniqueMode?: UniqueMode;
  /**
   * This job's concurrency key (default: the kind's `concurrencyKey`): at most
   * `concurrencyLimit` running jobs of one key (per queue) at once, across every process, keys
   * served round-robin.
   */
  concurrencyKey?: string;
  /** Jobs of this job's key that may run at once (default: the kind's, else 1). */
  concurrencyLimit?: number;
  /**
   * At most `limit` starts per `per` window of the jobs sharing this job's concurrency key (or,
   * without a key, its kind), across every process (default: the kind's `rateLimit`).
   */
  rateLimit?: RateLimitOptions;
  /**
   * Ids of jobs this job runs after (its parents): it waits (state `waiting`, never claimed) until
   * every one of them completed, then runs by its own runAt; its handler reads their results
   * with `ctx.afterResults()`. An id that names no job fails the enqueue with
   * TEND_E_JOB_PARENT_NOT_FOUND (nothing is enqueued). Not together with `uniqueKey`.
   */
  after?: readonly string[];
  /**
   * With `after`: what a parent that is discarded, cancelled or deleted before it completed does
   * to this job: `"cancel"` (default) cancels it, and in turn its own dependents, recording
   * TEND_E_JOB_PARENT_FAILED; `"run"` runs it anyway once every parent has finished.
   */
  onParentFailure?: ParentFailurePolicy;
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

/** The options of one job, shared by an enqueue's options and an item of `enqueueMany`. */
const JOB_FIELDS = {
  queue: true,
  priority: true,
  runAt: true,
  delay: true,
  maxAttempts: true,
  maxLost: true,
  uniqueKey: true,
  uniqueMode: true,
  concurrencyKey: true,
  concurrencyLimit: true,
  rateLimit: true,
  after: true,
  onParentFailure: true,
} as const satisfies { readonly [K in keyof Required<Omit<EnqueueOptions, "tx">>]: true };

/** The keys an enqueue accepts. */
export const ENQUEUE_KEYS = optionKeys<EnqueueOptions>({ ...JOB_FIELDS, tx: true });

/** The keys an item of `enqueueMany` or `batch` accepts. */
export const ENQUEUE_ITEM_KEYS = optionKeys<EnqueueItem>({ ...JOB_FIELDS, kind: true, payload: true });

/**
 * Builds a validated NewJob. Its caller checks the option keys (once per call, or once per cron
 * schedule), so that a cron tick does not check them again. Pure apart from reading the clock
 * through `now`.
 */
export function buildNewJob(
  kind: string,
  payload: unknown,
  options: EnqueueOptions,
  definition: JobDefinition | undefined,
  limits: { maxPayloadBytes: number; now: number; maxLost?: number | undefined; item?: number },
  batch: { batchId: string; batchIndex: number } | null = null,
): NewJob {
  checkKind(kind);
  checkObject("TEND_E_INVALID_JOB_OPTIONS", "enqueue options", options);
  const queue =
    options.queue === undefined ? (definition?.queue ?? DEFAULT_QUEUE) : checkQueue(options.queue);
  const priority =
    options.priority === undefined
      ? (definition?.priority ?? 0)
      : checkInteger("TEND_E_INVALID_JOB_OPTIONS", "priority", options.priority, -32768, 32767);
  const maxAttempts =
    options.maxAttempts === undefined
      ? (definition?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)
      : checkInteger("TEND_E_INVALID_JOB_OPTIONS", "maxAttempts", options.maxAttempts, 1, 1000);
  const maxLost =
    options.maxLost === undefined
      ? (definition?.maxLost ?? limits.maxLost ?? DEFAULT_MAX_LOST)
      : checkInteger("TEND_E_INVALID_JOB_OPTIONS", "maxLost", options.maxLost, 1, 1000);
  let runAt: Date;
  if (options.runAt !== undefined) {
    runAt = checkDate("TEND_E_INVALID_JOB_OPTIONS", "runAt", options.runAt);
    // Both drivers store the same range (PostgreSQL's timestamptz ends before 4714 BC).
    if (runAt.getTime() < MIN_RUN_AT || runAt.getTime() > MAX_RUN_AT)
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        "runAt",
        runAt,
        "a Date from 0001-01-01 to 9999-12-31 (UTC)",
      );
  } else if (options.delay !== undefined) {
    runAt = new Date(
      limits.now + parseDuration(options.delay, "delay", { ...POSITIVE_DURATION, max: MAX_DELAY_MS }),
    );
  } else {
    runAt = new Date(limits.now);
  }
  let uniqueKey: string | null = null;
  if (options.uniqueKey !== undefined) {
    if (
      typeof options.uniqueKey !== "string" ||
      options.uniqueKey.length === 0 ||
      options.uniqueKey.length > 512 ||
      // Stored as text: PostgreSQL refuses U+0000, and a lone surrogate is not text.
      options.uniqueKey.includes("\u0000") ||
      !options.uniqueKey.isWellFormed()
    ) {
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        "uniqueKey",
        options.uniqueKey,
        "a string of 1-512 characters of Unicode text without U+0000",
      );
    }
    uniqueKey = options.uniqueKey;
  }
  let uniqueMode: UniqueMode | undefined;
  if (options.uniqueMode !== undefined) {
    if (!(UNIQUE_MODES as readonly unknown[]).includes(options.uniqueMode)) {
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        "uniqueMode",
        options.uniqueMode,
        `one of ${UNIQUE_MODES.map((m) => `"${m}"`).join(", ")}`,
      );
    }
    if (uniqueKey === null) {
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        "uniqueMode",
        options.uniqueMode,
        "a uniqueMode only together with a uniqueKey",
      );
    }
    uniqueMode = options.uniqueMode;
  }
  const concurrency = concurrencyOf(kind, options, definition, payload);
  const job: NewJob = {
    kind,
    queue,
    ...concurrency,
    payload: encodeJson(
      limits.item === undefined
        ? { value: "payload", code: "TEND_E_INVALID_PAYLOAD", kind }
        : { value: "payload", code: "TEND_E_INVALID_PAYLOAD", kind, item: limits.item },
      payload,
      limits.maxPayloadBytes,
    ),
    priority,
    runAt,
    maxAttempts,
    uniqueKey,
    batchId: batch?.batchId ?? null,
    batchIndex: batch?.batchIndex ?? null,
    maxLost,
  };
  // Only on the jobs that ask for it: an ordinary job's object stays as it was.
  if (uniqueMode !== undefined && uniqueMode !== "keep") job.uniqueMode = uniqueMode;
  if (options.after !== undefined || options.onParentFailure !== undefined) {
    const after = checkAfter(options.after, options.onParentFailure, uniqueKey);
    if (after.length > 0) job.after = after;
    if (options.onParentFailure !== undefined) job.onParentFailure = options.onParentFailure;
  }
  return job;
}

/**
 * A job's concurrency key, limit and rate limit: the enqueue's, else the kind's (its key function
 * is called with the payload here, at enqueue; a throw or a bad result fails the enqueue with
 * TEND_E_INVALID_JOB_OPTIONS). A rate limit without a key counts per kind: the key is the kind's
 * name, with no concurrency limit (null) unless one is given.
 */
function concurrencyOf(
  kind: string,
  options: EnqueueOptions,
  definition: JobDefinition | undefined,
  payload: unknown,
): Pick<NewJob, "concurrencyKey" | "concurrencyLimit" | "rateLimit" | "ratePeriodMs"> {
  const givenLimit =
    options.concurrencyLimit === undefined
      ? (definition?.concurrencyLimit ?? null)
      : checkInteger("TEND_E_INVALID_JOB_OPTIONS", "concurrencyLimit", options.concurrencyLimit, 1, 10_000);
  const rate =
    options.rateLimit === undefined
      ? (definition?.rateLimit ?? null)
      : checkRateLimit(options.rateLimit, "rateLimit");
  const rated = rate === null ? {} : { rateLimit: rate.limit, ratePeriodMs: rate.periodMs };
  let key: string | null = null;
  if (options.concurrencyKey !== undefined) key = checkConcurrencyKey(options.concurrencyKey);
  else if (definition?.concurrencyKey != null) key = keyFromKind(definition, payload);
  if (key === null) {
    // A limit without a key limits the kind as a whole (as the same option on the kind does).
    if (rate === null && givenLimit === null) return {};
    return { concurrencyKey: kind, concurrencyLimit: givenLimit, ...rated };
  }
  // A key without a limit anywhere runs one at a time, unless only a rate limit was asked for.
  return { concurrencyKey: key, concurrencyLimit: givenLimit ?? (rate === null ? 1 : null), ...rated };
}

/** The kind's concurrency key for a payload (its function's result, checked). */
function keyFromKind(definition: JobDefinition, payload: unknown): string {
  let key: unknown;
  try {
    key = definition.concurrencyKey!(payload);
  } catch (err) {
    throw new TendError(
      "TEND_E_INVALID_JOB_OPTIONS",
      `The concurrencyKey function of job kind "${definition.kind}" threw: ${(err as Error)?.message ?? String(err)}`,
      { cause: err, details: { kind: definition.kind } },
    );
  }
  return checkConcurrencyKey(key, `concurrencyKey of job kind "${definition.kind}" (its function's result)`);
}

/** The most parents one job may name. */
export const MAX_PARENTS = 1000;

/**
 * Checks `after` and `onParentFailure` (TEND_E_INVALID_JOB_OPTIONS): an array of at most
 * MAX_PARENTS job ids, no unique key beside it, a known policy only together with parents.
 * Returns the ids. Pure.
 *
 * @example
 * ```ts
 * checkAfter(["41", "42"], "run", null); // ["41", "42"]
 * ```
 */
export function checkAfter(after: unknown, onParentFailure: unknown, uniqueKey: string | null): string[] {
  const ids: string[] = [];
  if (after !== undefined) {
    if (!isArrayValue(after) || after.length > MAX_PARENTS) {
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        "after",
        after,
        `an array of at most ${MAX_PARENTS} job ids (strings of decimal digits)`,
      );
    }
    // A for loop, not forEach: forEach skips the holes of a sparse array (`new Array(2)`).
    for (let i = 0; i < after.length; i++) {
      const id: unknown = after[i];
      if (!isJobId(id))
        throw invalidArgument(
          "TEND_E_INVALID_JOB_OPTIONS",
          `after[${i}]`,
          id,
          "a job id (a string of decimal digits)",
        );
      ids.push(id);
    }
  }
  if (onParentFailure !== undefined) {
    if (!(PARENT_FAILURE_POLICIES as readonly unknown[]).includes(onParentFailure))
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        "onParentFailure",
        onParentFailure,
        `one of ${PARENT_FAILURE_POLICIES.map((p) => `"${p}"`).join(", ")}`,
      );
    if (ids.length === 0)
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        "onParentFailure",
        onParentFailure,
        "an onParentFailure only together with a non-empty after",
      );
  }
  if (ids.length > 0 && uniqueKey !== null)
    throw invalidArgument(
      "TEND_E_INVALID_JOB_OPTIONS",
      "uniqueKey",
      uniqueKey,
      "no unique key on a job with parents (after)",
    );
  return ids;
}
