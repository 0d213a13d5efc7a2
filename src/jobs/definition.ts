import type { Logger } from "pino";
import { invalidArgument, TendError } from "../errors/tend-error.ts";
import { parseDuration } from "../lifecycle/duration.ts";
import { type BackoffPolicy, DEFAULT_BACKOFF, retryDelay } from "./backoff.ts";
import type { Json } from "./model.ts";
import { checkInt, checkKind, checkQueue } from "./validate.ts";

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
    validate(
      value: unknown,
    ):
      | { readonly value: T; readonly issues?: undefined }
      | { readonly issues: ReadonlyArray<{ readonly message: string }> }
      | Promise<
          | { readonly value: T; readonly issues?: undefined }
          | { readonly issues: ReadonlyArray<{ readonly message: string }> }
        >;
  };
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
  timeout?: number | string;
  /** Retry delays: a policy (merged over the default) or a function of the failed attempt number returning ms. */
  backoff?: Partial<BackoffPolicy> | ((attempt: number) => number);
  /** Validates (and may transform) the payload: a function that returns it or throws, or a Standard Schema. A failure discards the job at once with TEND_E_INVALID_PAYLOAD. */
  validate?: ((payload: unknown) => P) | StandardSchema<P>;
  /** Default priority of this kind's jobs (lower runs first; default 0). */
  priority?: number;
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
  delayFor(attempt: number): number;
  validate(payload: unknown): Promise<unknown>;
  handler: JobHandler<never, unknown>;
}

export const DEFAULT_MAX_ATTEMPTS = 10;
export const DEFAULT_QUEUE = "default";

/** Validates a kind's handler and options; throws TendError with a TEND_E_ code on bad input. */
export function defineJobKind<P>(
  kind: string,
  handler: JobHandler<P>,
  options: JobKindOptions<P> = {},
): JobDefinition {
  checkKind(kind);
  if (typeof handler !== "function") {
    throw invalidArgument(
      "TEND_E_INVALID_JOB_OPTIONS",
      `handler of job kind "${kind}"`,
      handler,
      "a function",
    );
  }
  if (options === null || typeof options !== "object") {
    throw invalidArgument(
      "TEND_E_INVALID_JOB_OPTIONS",
      `options of job kind "${kind}"`,
      options,
      "an object",
    );
  }
  const queue = options.queue === undefined ? DEFAULT_QUEUE : checkQueue(options.queue);
  const maxAttempts =
    options.maxAttempts === undefined
      ? DEFAULT_MAX_ATTEMPTS
      : checkInt("maxAttempts", options.maxAttempts, 1, 1000);
  const maxLost = options.maxLost === undefined ? undefined : checkInt("maxLost", options.maxLost, 1, 1000);
  const priority = options.priority === undefined ? 0 : checkInt("priority", options.priority, -32768, 32767);
  let timeoutMs: number | null = null;
  if (options.timeout !== undefined) {
    timeoutMs = toMs("timeout", options.timeout);
  }
  return {
    kind,
    queue,
    maxAttempts,
    maxLost,
    timeoutMs,
    priority,
    delayFor: backoffFor(options.backoff),
    validate: validatorFor(kind, options.validate),
    handler: handler as JobHandler<never, unknown>,
  };
}

/** Converts a duration option (ms or "30s") to a positive ms count, or throws TEND_E_INVALID_JOB_OPTIONS. */
export function toMs(name: string, value: unknown): number {
  let ms: number | undefined;
  try {
    ms = typeof value === "number" ? value : typeof value === "string" ? parseDuration(value) : undefined;
  } catch {
    ms = undefined;
  }
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) {
    throw invalidArgument(
      "TEND_E_INVALID_JOB_OPTIONS",
      name,
      value,
      'a positive number of ms or a duration such as "30s"',
    );
  }
  return ms;
}

function backoffFor(backoff: JobKindOptions["backoff"]): (attempt: number) => number {
  if (backoff === undefined) return (attempt) => retryDelay(attempt, DEFAULT_BACKOFF);
  if (typeof backoff === "function") {
    return (attempt) => {
      const ms = backoff(attempt);
      return Number.isFinite(ms) && ms >= 0 ? ms : retryDelay(attempt, DEFAULT_BACKOFF);
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
  const policy: BackoffPolicy = { ...DEFAULT_BACKOFF, ...backoff };
  for (const key of ["baseMs", "factor", "maxMs", "jitter"] as const) {
    const v = policy[key];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw invalidArgument("TEND_E_INVALID_JOB_OPTIONS", `backoff.${key}`, v, "a non-negative number");
    }
  }
  return (attempt) => retryDelay(attempt, policy);
}

function validatorFor<P>(
  kind: string,
  validate: JobKindOptions<P>["validate"],
): (payload: unknown) => Promise<unknown> {
  if (validate === undefined) return async (payload) => payload;
  if (typeof validate === "function") return async (payload) => validate(payload);
  if (typeof validate === "object" && validate !== null && "~standard" in validate) {
    return async (payload) => {
      const result = await validate["~standard"].validate(payload);
      if (result.issues !== undefined) {
        throw new TendError(
          "TEND_E_INVALID_PAYLOAD",
          `Payload of job kind "${kind}" is invalid: ${result.issues.map((i) => i.message).join("; ")}`,
          { details: { kind, issues: result.issues.map((i) => i.message) } },
        );
      }
      return result.value;
    };
  }
  throw invalidArgument(
    "TEND_E_INVALID_JOB_OPTIONS",
    "validate",
    validate,
    "a function or a Standard Schema",
  );
}
