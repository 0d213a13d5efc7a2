import type { AfterResult } from "./after-results.ts";
import type { Logger } from "pino";
import {
  checkFunction,
  checkInteger,
  checkNumber,
  checkObject,
  invalidArgument,
  optionKeys,
  readOr,
  rejectUnknownKeys,
  TendError,
} from "../errors/index.ts";
import { type Duration, parseDuration } from "../lifecycle/index.ts";
import type { Json } from "../store/index.ts";
import { type BackoffPolicy, badDelay, DEFAULT_BACKOFF, retryDelay } from "./backoff.ts";
import { checkRateLimit, type RateLimit, type RateLimitOptions } from "./rate-limit.ts";
import type { JobSnooze } from "./snooze.ts";
import { messageOf } from "./outcome.ts";
import { isThenable } from "./thenable.ts";
import { checkConcurrencyKey, checkKind, checkQueue, TIMER_DURATION } from "./validate.ts";

/** What a handler gets for one attempt of one job. */
export interface JobContext<P = Json> {
  id: string;
  kind: string;
  queue: string;
  /** The payload, after the kind's validation if it has one. */
  payload: P;
  /** This attempt's number, from 1. */
  attempt: number;
  maxAttempts: number;
  /** Aborts on the kind's timeout, on cancel, when the lease is lost, and at the end of a graceful stop's budget. */
  signal: AbortSignal;
  /** A child logger carrying the job's id, kind and attempt. */
  log: Logger;
  /** Extends this job's lease now (the worker also renews leases on its own while the event loop runs). */
  heartbeat(): Promise<void>;
  /**
   * Reports the job's progress: a JSON value of at most 4 KiB, stored on the job (`progress` of
   * `jobs.get(id)`, `tend jobs show`). Cheap to call in a hot loop: the latest value wins and is
   * written at most once per `progressInterval` (jobs option, default 1 s), and the last one
   * before the attempt's outcome. Throws TEND_E_INVALID_PROGRESS (or TEND_E_PAYLOAD_TOO_LARGE)
   * for a value that cannot be stored.
   *
   * @example
   * ```ts
   * for (const [i, row] of rows.entries()) { await load(row); ctx.progress({ done: i + 1, of: rows.length }); }
   * ```
   */
  progress(value: unknown): void;
  /**
   * Asks to run the job again later without spending this attempt: return the value it gives
   * (`return ctx.snooze("30s")`; throwing it works too). The job goes back to `scheduled` with
   * runAt = now + duration, its lease released; `attempt` counts only attempts that did not snooze.
   * Throws TEND_E_INVALID_SNOOZE unless `duration` is ms or a duration string from 0 to ten years.
   *
   * @example
   * ```ts
   * app.job("export.fetch", async (ctx) => ((await ready(ctx.payload.id)) ? download(ctx.payload.id) : ctx.snooze("30s")));
   * ```
   */
  snooze(duration: Duration): JobSnooze;
  /**
   * The outcomes of the jobs this one ran after (its `after` ids, or its children in a flow),
   * ordered by id, read from the store: each with its `state`, `ok`, `result` (completed) and
   * last `error`. Empty for a job without parents. A parent pruned meanwhile is listed with a null
   * kind and state.
   *
   * @example
   * ```ts
   * app.job("report.merge", async (ctx) => merge((await ctx.afterResults()).map((r) => r.result)));
   * ```
   */
  afterResults(): Promise<AfterResult[]>;
}

/** A job handler: may return a JSON-encodable result, which is stored on the job. */
export type JobHandler<P = Json, R = unknown> = (ctx: JobContext<P>) => Promise<R> | R;

/**
 * A Standard Schema (zod, valibot, arktype and others implement it), accepted by `validate`.
 * Declared here so that tend needs none of them.
 */
export interface StandardSchema<T> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    validate(value: unknown): StandardResult<T> | Promise<StandardResult<T>>;
  };
}

/** What a Standard Schema's `validate` gives: the value, or the issues that make it invalid. */
export type StandardResult<T> =
  | { readonly value: T; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string }> };

/** Retry delays of a job kind, each merged over the default (`1s` doubling up to `1h`, ±25 %). */
export interface BackoffOptions {
  /** Delay after the first failure (default `"1s"`). */
  base?: Duration;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Upper bound of the delay before jitter (default `"1h"`). */
  max?: Duration;
  /** Fraction of the delay randomised, 0..1 (default 0.25: the delay varies by ±25 %). */
  jitter?: number;
}

/** Options of a job kind. */
export interface JobKindOptions<P = Json> {
  /** Queue the kind's jobs go to unless an enqueue says otherwise (default `default`). */
  queue?: string;
  /** Attempts before a failing job is discarded (default 10). */
  maxAttempts?: number;
  /**
   * Attempts that may end with the worker lost or hung (it died, was killed for a hang, or its
   * lease lapsed) before the job is discarded as poisoned with TEND_E_JOB_POISONED, whatever
   * attempts remain (default: the jobs option `maxLost`, else 3).
   */
  maxLost?: number;
  /** Per-attempt time limit: ms or a duration like "30s"; the handler's signal aborts then (default none). */
  timeout?: Duration;
  /** Retry delays: a policy (merged over the default) or a function of the failed attempt number returning ms. */
  backoff?: BackoffOptions | ((attempt: number) => number);
  /** Validates (and may transform) the payload: a function that returns it or throws, or a Standard Schema. A failure discards the job at once with TEND_E_INVALID_PAYLOAD. */
  validate?: ((payload: unknown) => P) | StandardSchema<P>;
  /** Default priority of this kind's jobs (lower runs first; default 0). */
  priority?: number;
  /**
   * The concurrency key of each job (for example its tenant): a string, or a function of the
   * payload returning one (1-512 characters), evaluated at enqueue. At most `concurrencyLimit` jobs
   * of one key (per queue) run at once across every process, and keys are served round-robin. An
   * enqueue's own `concurrencyKey` wins. A bad result fails the enqueue with
   * TEND_E_INVALID_JOB_OPTIONS.
   */
  concurrencyKey?: string | ((payload: P) => string);
  /**
   * Jobs of one concurrency key that may run at once (1-10,000; default 1). Set without a
   * `concurrencyKey`, the kind's name is the key: at most this many of the kind's jobs run at once.
   */
  concurrencyLimit?: number;
  /**
   * At most `limit` of this kind's jobs start per `per` window, across every process (for example
   * `{ limit: 10, per: "1s" }` for an outbound API), counted per concurrency key when the job has
   * one (10 per second per tenant), else for the kind. A job over the limit waits, pending: it is
   * not failed and spends no attempt.
   */
  rateLimit?: RateLimitOptions;
}

/** A validated job kind. */
export interface JobDefinition {
  kind: string;
  queue: string;
  maxAttempts: number;
  /** Undefined: the app's default. */
  maxLost: number | undefined;
  timeoutMs: number | null;
  priority: number;
  /** The kind's concurrency key (a function of the payload, or null for none). */
  concurrencyKey: ((payload: unknown) => unknown) | null;
  /** The kind's concurrency limit, or null. */
  concurrencyLimit: number | null;
  /** The kind's rate limit, or null. */
  rateLimit: RateLimit | null;
  /**
   * The delay before retrying after failed attempt `attempt`. A backoff function that throws or
   * returns no usable delay gets the default backoff instead, and `warn` is told why.
   */
  delayFor(attempt: number, warn?: (reason: string) => void): number;
  /**
   * The validated payload, or a promise of it (only an asynchronous schema returns one, so that
   * most attempts start without waiting a turn); throws (or rejects) on an invalid payload.
   */
  validate(payload: unknown): unknown;
  handler: JobHandler<never, unknown>;
}

const JOB_KIND_KEYS = optionKeys<JobKindOptions<unknown>>({
  queue: true,
  maxAttempts: true,
  maxLost: true,
  timeout: true,
  backoff: true,
  validate: true,
  priority: true,
  concurrencyKey: true,
  concurrencyLimit: true,
  rateLimit: true,
});

const BACKOFF_KEYS = optionKeys<BackoffOptions>({ base: true, factor: true, max: true, jitter: true });

export const DEFAULT_MAX_ATTEMPTS = 10;
export const DEFAULT_QUEUE = "default";

/** Validates a kind's handler and options; throws TendError with a TEND_E_ code on bad input. */
export function defineJobKind<P>(
  kind: string,
  handler: JobHandler<P>,
  options: JobKindOptions<P> = {},
): JobDefinition {
  checkKind(kind);
  checkFunction("TEND_E_INVALID_JOB_OPTIONS", `handler of job kind "${kind}"`, handler);
  checkObject("TEND_E_INVALID_JOB_OPTIONS", `options of job kind "${kind}"`, options);
  rejectUnknownKeys(`job kind options of ${kind}`, options, JOB_KIND_KEYS);
  const queue = options.queue === undefined ? DEFAULT_QUEUE : checkQueue(options.queue);
  const maxAttempts =
    options.maxAttempts === undefined
      ? DEFAULT_MAX_ATTEMPTS
      : checkInteger("TEND_E_INVALID_JOB_OPTIONS", "maxAttempts", options.maxAttempts, 1, 1000);
  const maxLost =
    options.maxLost === undefined
      ? undefined
      : checkInteger("TEND_E_INVALID_JOB_OPTIONS", "maxLost", options.maxLost, 1, 1000);
  const priority =
    options.priority === undefined
      ? 0
      : checkInteger("TEND_E_INVALID_JOB_OPTIONS", "priority", options.priority, -32768, 32767);
  const timeoutMs =
    options.timeout === undefined ? null : parseDuration(options.timeout, "timeout", TIMER_DURATION);
  const concurrencyLimit =
    options.concurrencyLimit === undefined
      ? null
      : checkInteger("TEND_E_INVALID_JOB_OPTIONS", "concurrencyLimit", options.concurrencyLimit, 1, 10_000);
  const rateLimit = options.rateLimit === undefined ? null : checkRateLimit(options.rateLimit, "rateLimit");
  let concurrencyKey: JobDefinition["concurrencyKey"] = null;
  const key: unknown = options.concurrencyKey;
  if (typeof key === "function") concurrencyKey = key as (payload: unknown) => unknown;
  else if (key !== undefined) {
    const fixed = checkConcurrencyKey(key);
    concurrencyKey = () => fixed;
  } else if (concurrencyLimit !== null) concurrencyKey = () => kind;
  return {
    kind,
    queue,
    maxAttempts,
    maxLost,
    timeoutMs,
    priority,
    concurrencyKey,
    concurrencyLimit,
    rateLimit,
    delayFor: backoffFor(kind, options.backoff),
    validate: validatorFor(kind, options.validate),
    handler: handler as JobHandler<never, unknown>,
  };
}

function backoffFor(
  kind: string,
  backoff: JobKindOptions["backoff"],
): (attempt: number, warn?: (reason: string) => void) => number {
  if (backoff === undefined) return (attempt) => retryDelay(attempt, DEFAULT_BACKOFF);
  if (typeof backoff === "function") {
    return (attempt, warn) => {
      let ms: unknown;
      try {
        ms = backoff(attempt);
      } catch (err) {
        warn?.(`the backoff function of job kind "${kind}" threw (${messageOf(err)})`);
        return retryDelay(attempt, DEFAULT_BACKOFF);
      }
      const bad = badDelay(ms);
      if (bad === null) return ms as number;
      warn?.(`the backoff function of job kind "${kind}" returned ${bad}`);
      return retryDelay(attempt, DEFAULT_BACKOFF);
    };
  }
  if (typeof backoff !== "object" || backoff === null) {
    throw invalidArgument(
      "TEND_E_INVALID_JOB_OPTIONS",
      "backoff",
      backoff,
      "a backoff policy object or a function",
    );
  }
  rejectUnknownKeys(`backoff options of job kind ${kind}`, backoff, BACKOFF_KEYS);
  const code = "TEND_E_INVALID_JOB_OPTIONS";
  const policy: BackoffPolicy = {
    baseMs:
      backoff.base === undefined
        ? DEFAULT_BACKOFF.baseMs
        : parseDuration(backoff.base, "backoff.base", { code }),
    factor:
      backoff.factor === undefined
        ? DEFAULT_BACKOFF.factor
        : checkNumber(code, "backoff.factor", backoff.factor, 0),
    maxMs:
      backoff.max === undefined ? DEFAULT_BACKOFF.maxMs : parseDuration(backoff.max, "backoff.max", { code }),
    jitter:
      backoff.jitter === undefined
        ? DEFAULT_BACKOFF.jitter
        : checkNumber(code, "backoff.jitter", backoff.jitter, 0),
  };
  return (attempt) => retryDelay(attempt, policy);
}

function validatorFor<P>(
  kind: string,
  validate: JobKindOptions<P>["validate"],
): (payload: unknown) => unknown {
  if (validate === undefined) return (payload) => payload;
  if (typeof validate === "function") return (payload) => validate(payload);
  if (typeof validate === "object" && validate !== null && isStandardSchema(validate)) {
    const checked = (result: StandardResult<P>): unknown => {
      if (result.issues !== undefined) {
        throw new TendError(
          "TEND_E_INVALID_PAYLOAD",
          `Payload of job kind "${kind}" is invalid: ${result.issues.map((i) => i.message).join("; ")}`,
          { details: { kind, issues: result.issues.map((i) => i.message) } },
        );
      }
      return result.value;
    };
    return (payload) => {
      const result = validate["~standard"].validate(payload);
      return isThenable(result) ? Promise.resolve(result).then(checked) : checked(result);
    };
  }
  throw invalidArgument(
    "TEND_E_INVALID_JOB_OPTIONS",
    "validate",
    validate,
    "a function or a Standard Schema",
  );
}

/** Whether `value` has a `~standard` member; false when that cannot be asked (a revoked Proxy, a throwing `has` trap). */
function isStandardSchema(value: object): value is { "~standard": unknown } {
  return readOr(() => "~standard" in value, false);
}
