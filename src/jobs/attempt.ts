import { toAfterResults } from "./after-results.ts";
import type { Logger } from "pino";
import { isTendError, TendError } from "../errors/index.ts";
import {
  type ClaimedJob,
  type Completion,
  type Failure,
  isStoreUnavailable,
  type JobError,
  type LeaseRef,
  type ProgressUpdate,
  type SnoozeRequest,
  type JobDependencies,
} from "../store/index.ts";
import { nextRetryAt, retryDelay } from "./backoff.ts";
import type { JobDefinition } from "./definition.ts";
import type { AttemptEnd, AttemptObservation, AttemptOutcome, JobObserver } from "./observer.ts";
import { type AbortReason, failureOutcome, messageOf, readableThrown } from "./outcome.ts";
import { MAX_PROGRESS_BYTES, ProgressReporter } from "./progress.ts";
import { JobSnooze, snoozeFor } from "./snooze.ts";
import { isThenable } from "./thenable.ts";
import { encodeJson } from "./validate.ts";

/** A job this process is running. */
export interface RunningJob {
  job: ClaimedJob;
  ref: LeaseRef;
  /** Made when the handler first reads its signal (most short handlers never do); see signalOf. */
  controller: AbortController | null;
  abortReason: AbortReason | null;
  /** What the signal aborts with, once aborted (kept for a signal made after the abort). */
  abortValue?: unknown;
  /** The handler returned (or no handler ran): its slot is free, its outcome not yet written. */
  handlerReturned: boolean;
}

export type { AttemptOutcome } from "./observer.ts";

export interface AttemptDeps {
  definition: JobDefinition | undefined;
  log: Logger;
  maxResultBytes: number;
  /** Renews the job's lease now (the handler's `ctx.heartbeat()`). */
  heartbeat(entry: RunningJob): Promise<void>;
  /**
   * Called once when the attempt stops using its handler slot (the handler returned or threw, or
   * no handler ran), before its outcome is written.
   */
  handlerDone(entry: RunningJob): void;
  /** Called last, once the attempt's outcome is written (or could not be). */
  settled(entry: RunningJob): void;
  writes: {
    /** Resolves with the ids its batch completed (the job's own is absent if its lease was lost). */
    complete(c: Completion): Promise<ReadonlySet<string>>;
    fail(f: Failure): Promise<string[]>;
    release(r: LeaseRef): Promise<string[]>;
    cancel(r: LeaseRef): Promise<string[]>;
    /** Stores a progress value (throttled per attempt by a ProgressReporter). */
    progress(p: ProgressUpdate): Promise<string[]>;
    /** Puts the job back to wait without spending the attempt (the handler snoozed). */
    snooze(s: SnoozeRequest): Promise<string[]>;
  };
  /** Reads a job's parents and dependents from the store (for `ctx.afterResults()`). */
  dependencies?: (id: string) => Promise<JobDependencies>;
  /** Least interval between two progress writes of one attempt. */
  progressIntervalMs: number;
  /** How long a handler past its timeout may ignore its aborted signal before it is given up on. */
  abortGraceMs: number;
  onOutcome(outcome: AttemptOutcome, detail?: AttemptEnd): void;
  observer?: JobObserver | undefined;
}

/** The job's abort signal, made on first use (already aborted if the job was). */
export function signalOf(entry: RunningJob): AbortSignal {
  if (entry.controller === null) {
    entry.controller = new AbortController();
    if (entry.abortReason !== null) entry.controller.abort(entry.abortValue);
  }
  return entry.controller.signal;
}

/** Aborts the job's signal with `value` (or records it for a signal not made yet). */
export function abortSignalOf(entry: RunningJob, value: unknown): void {
  entry.abortValue = value;
  entry.controller?.abort(value);
}

/**
 * Ends an attempt whose handler will not run because its lease was lost before it started (a
 * careful start found the job rescued or cancelled meanwhile): frees its slot, counts it as a lost
 * lease, writes nothing.
 */
export function skipAttempt(entry: RunningJob, deps: AttemptDeps): void {
  deps.handlerDone(entry);
  deps.onOutcome("lostLeases", NO_DETAIL);
  deps.settled(entry);
}

/**
 * Runs one attempt of a claimed job and writes its outcome (fenced by its lease token). Never
 * throws: an unknown kind, a bad payload, a handler error or a write failure is recorded or logged.
 */
export async function runAttempt(entry: RunningJob, deps: AttemptDeps): Promise<void> {
  const { job } = entry;
  // Made once per attempt, and only when something watches (no allocation otherwise).
  const watch = deps.observer?.attempt?.(job);
  // The job's child logger is made on first use: most attempts of short jobs never log.
  let jobLog: Logger | undefined;
  const log = (): Logger =>
    (jobLog ??= deps.log.child({ jobId: job.id, kind: job.kind, attempt: job.attempt }));
  const debug = deps.log.isLevelEnabled("debug");
  let slotHeld = true;
  const freeSlot = (): void => {
    if (!slotHeld) return;
    slotHeld = false;
    deps.handlerDone(entry);
  };
  try {
    const definition = deps.definition;
    if (definition === undefined) {
      freeSlot();
      const err = new TendError(
        "TEND_E_UNKNOWN_JOB_KIND",
        `No handler for job kind "${job.kind}" in this worker. Define it with app.job("${job.kind}", handler), or route the kind to a queue this worker does not serve.`,
        { details: { kind: job.kind } },
      );
      await recordFailure(entry, deps, watch, log(), err, true);
      return;
    }
    let payload: unknown;
    try {
      if (job.payloadError !== undefined)
        throw new TendError(
          "TEND_E_INVALID_PAYLOAD",
          `Payload of job kind "${job.kind}" cannot be read: ${job.payloadError}.`,
          { details: { kind: job.kind } },
        );
      // Awaited only when the validator is asynchronous: a turn of the event loop saved per job.
      payload = definition.validate(job.payload);
      if (isThenable(payload)) payload = await payload;
    } catch (thrown) {
      const err = readableThrown(thrown);
      const wrapped =
        err instanceof TendError && err.code === "TEND_E_INVALID_PAYLOAD"
          ? err
          : new TendError(
              "TEND_E_INVALID_PAYLOAD",
              `Payload of job kind "${job.kind}" is invalid: ${(err as Error)?.message ?? String(err)}`,
              {
                details: { kind: job.kind },
                cause: err,
              },
            );
      freeSlot();
      await recordFailure(entry, deps, watch, log(), wrapped, false);
      return;
    }
    // Past its timeout the handler's signal aborts; a handler that ignores it for the abort grace
    // is given up on: its timeout is recorded (and retried) and its slot freed, though its code
    // may still run in this process (JavaScript cannot stop it).
    let giveUp: ((err: TendError) => void) | null = null;
    let graceTimer: ReturnType<typeof setTimeout> | null = null;
    const timeoutMs = definition.timeoutMs;
    const timer =
      timeoutMs === null
        ? null
        : setTimeout(() => {
            // At shutdown the worker's drain bounds the handler (it aborts, then gives up likewise).
            if (entry.abortReason === "shutdown") return;
            // A job already aborted (cancelled, or its lease lost) keeps that reason; its handler
            // is still given up on if it ignores the abort past the timeout and the grace.
            if (entry.abortReason === null) {
              entry.abortReason = "timeout";
              abortSignalOf(
                entry,
                new TendError("TEND_E_JOB_TIMEOUT", `Job ${job.id} exceeded its ${timeoutMs} ms timeout.`),
              );
            }
            graceTimer = setTimeout(
              () =>
                giveUp?.(
                  new TendError(
                    "TEND_E_JOB_TIMEOUT",
                    `Job ${job.id} exceeded its ${timeoutMs} ms timeout and its handler ignored its abort signal for ${deps.abortGraceMs} ms more.`,
                    { details: { timeoutMs, abandonedAfterMs: deps.abortGraceMs } },
                  ),
                ),
              deps.abortGraceMs,
            );
          }, timeoutMs);
    // Made on the first ctx.progress call: attempts that report none pay nothing.
    let reporter: ProgressReporter | undefined;
    const progress = (value: unknown): void => {
      const text = encodeJson(
        { value: "progress", code: "TEND_E_INVALID_PROGRESS", kind: job.kind, jobId: job.id },
        value,
        MAX_PROGRESS_BYTES,
      );
      reporter ??= new ProgressReporter(async (progressText) => {
        try {
          await deps.writes.progress({ ...entry.ref, progress: progressText });
        } catch (err) {
          log().warn({ err }, "storing the job's progress failed; its next value is written as usual");
        }
      }, deps.progressIntervalMs);
      reporter.set(text);
    };
    /** Before the outcome: the last progress is written (nothing once the lease is lost). */
    const settleProgress = async (): Promise<void> => {
      if (reporter === undefined) return;
      if (entry.abortReason === "lease-lost") reporter.close();
      else await reporter.flush();
    };
    let result: unknown;
    const started = performance.now();
    try {
      if (debug) log().debug("job started");
      const context = {
        id: job.id,
        kind: job.kind,
        queue: job.queue,
        payload: payload as never,
        attempt: job.attempt,
        maxAttempts: job.maxAttempts,
        get signal() {
          return signalOf(entry);
        },
        get log() {
          return log();
        },
        heartbeat: () => deps.heartbeat(entry),
        progress,
        snooze: snoozeFor,
        afterResults: async () =>
          deps.dependencies === undefined ? [] : toAfterResults(await deps.dependencies(job.id)),
      };
      result =
        watch?.run === undefined ? definition.handler(context) : watch.run(() => definition.handler(context));
      // A synchronous handler's result is used as it is (no turn of the event loop).
      if (isThenable(result)) {
        const pending = result;
        result =
          timer === null
            ? await pending
            : await new Promise<unknown>((resolve, reject) => {
                giveUp = reject;
                pending.then(resolve, reject);
              });
      }
    } catch (thrown) {
      const err = readableThrown(thrown);
      if (isAbandoned(err))
        log().warn(
          { timeoutMs: definition.timeoutMs, graceMs: deps.abortGraceMs },
          "the job's handler ignored its abort signal after its timeout; its timeout is recorded and its slot freed, but its code may still be running in this process (make it honour ctx.signal)",
        );
      if (reporter !== undefined) await settleProgress();
      if (err instanceof JobSnooze) await recordSnooze(entry, deps, watch, log(), err);
      else await recordFailure(entry, deps, watch, log(), err, true);
      return;
    } finally {
      if (timer !== null) clearTimeout(timer);
      if (graceTimer !== null) clearTimeout(graceTimer);
      freeSlot();
    }
    if (reporter !== undefined) await settleProgress();
    if (entry.abortReason === "lease-lost") {
      ended(deps, watch, "lostLeases");
      return;
    }
    if (result instanceof JobSnooze) {
      await recordSnooze(entry, deps, watch, log(), result);
      return;
    }
    let encoded: string | null;
    try {
      encoded =
        result === undefined
          ? null
          : encodeJson(
              { value: "result", code: "TEND_E_INVALID_RESULT", kind: job.kind, jobId: job.id },
              result,
              deps.maxResultBytes,
            );
    } catch (err) {
      const wrapped = isTendError(err, "TEND_E_INVALID_RESULT")
        ? err
        : new TendError("TEND_E_INVALID_RESULT", (err as Error).message, { cause: err });
      await recordFailure(entry, deps, watch, log(), wrapped, true);
      return;
    }
    let written: ReadonlySet<string>;
    try {
      written = await deps.writes.complete({ ...entry.ref, result: encoded });
    } catch (err) {
      if (isStoreUnavailable(err)) throw err;
      // The database refused this job's completion (its batch was already retried one by one):
      // record why on the job, so that it is retried at once instead of after its lease.
      log().error({ err }, "the store refused to record this job's result; recording the failure instead");
      const refused = new TendError(
        "TEND_E_RESULT_NOT_RECORDED",
        `The store refused to record the result of job ${job.id} (kind "${job.kind}"): ${messageOf(err)}`,
        { cause: err },
      );
      await recordFailure(entry, deps, watch, log(), refused, true);
      return;
    }
    if (written.has(job.id)) {
      ended(deps, watch, "completed");
      if (debug) log().debug({ ms: Math.round(performance.now() - started) }, "job completed");
    } else {
      ended(deps, watch, "lostLeases");
      log().warn(
        "job finished after its lease was lost (rescued or cancelled elsewhere); its result was not recorded",
      );
    }
  } catch (err) {
    log().error({ err }, "recording a job's outcome failed; the job will be rescued when its lease lapses");
  } finally {
    freeSlot();
    deps.settled(entry);
  }
}

const NO_DETAIL: AttemptEnd = Object.freeze({});

/** True for the error of a handler given up on after its timeout and the abort grace. */
function isAbandoned(err: unknown): boolean {
  return isTendError(err, "TEND_E_JOB_TIMEOUT") && err.details["abandonedAfterMs"] !== undefined;
}

/** Tells the worker and the attempt's observation (if any) how the attempt ended. */
function ended(
  deps: AttemptDeps,
  watch: AttemptObservation | undefined,
  outcome: AttemptOutcome,
  detail: AttemptEnd = NO_DETAIL,
): void {
  deps.onOutcome(outcome, detail);
  watch?.end(outcome, detail);
}

/**
 * Writes a snooze: the job waits until now + the snooze, its attempt not spent. Counted as
 * `released` (the job went back to the queue without spending its attempt). A lost lease writes
 * nothing; a requested cancel is applied by the store.
 */
async function recordSnooze(
  entry: RunningJob,
  deps: AttemptDeps,
  watch: AttemptObservation | undefined,
  log: Logger,
  snooze: JobSnooze,
): Promise<void> {
  if (entry.abortReason === "lease-lost") {
    ended(deps, watch, "lostLeases");
    return;
  }
  const runAt = new Date(Date.now() + snooze.ms);
  const written = await deps.writes.snooze({ ...entry.ref, runAt });
  if (!written.includes(entry.job.id)) {
    ended(deps, watch, "lostLeases");
    log.warn("job snoozed after its lease was lost (rescued or cancelled elsewhere); nothing was written");
    return;
  }
  ended(deps, watch, "released");
  if (log.isLevelEnabled("debug")) log.debug({ runAt }, "job snoozed; its attempt was not spent");
}

async function recordFailure(
  entry: RunningJob,
  deps: AttemptDeps,
  watch: AttemptObservation | undefined,
  log: Logger,
  err: unknown,
  retryable: boolean,
): Promise<void> {
  const { job } = entry;
  const outcome = failureOutcome(err, entry.abortReason, job.attempt, new Date());
  switch (outcome.write) {
    case "nothing":
      ended(deps, watch, "lostLeases");
      return;
    case "release":
      await deps.writes.release(entry.ref);
      ended(deps, watch, "released");
      log.info("job returned to the queue at shutdown; its attempt was not spent");
      return;
    case "cancel":
      await deps.writes.cancel(entry.ref);
      ended(deps, watch, "cancelled", { error: err });
      log.info("job cancelled while running");
      return;
    case "fail": {
      const error: JobError = outcome.error;
      const retryAt = nextRetryAt(
        job.attempt,
        job.maxAttempts,
        Date.now(),
        (n) =>
          deps.definition?.delayFor(n, (reason) =>
            log.warn(`${reason}; retrying after the default backoff instead`),
          ) ?? retryDelay(n),
        retryable && outcome.retryable,
      );
      await deps.writes.fail({ ...entry.ref, error, retryAt });
      ended(deps, watch, "failed", { error: err, discarded: retryAt === null });
      if (retryAt === null)
        log.error(
          { err },
          `job discarded after attempt ${job.attempt} of ${job.maxAttempts}: ${error.message}`,
        );
      else log.warn({ err, retryAt }, `job failed; retrying at ${retryAt.toISOString()}`);
      return;
    }
  }
}
