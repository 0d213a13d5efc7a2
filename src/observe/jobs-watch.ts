import type { Span, Tracer } from "@opentelemetry/api";
import type {
  AttemptEnd,
  AttemptObservation,
  AttemptOutcome,
  ClaimedJob,
  EnqueueObservation,
  InsertResult,
  JobObserver,
  NewJob,
  RescuedJob,
} from "../jobs/index.ts";
import { CHANNELS } from "./channels.ts";
import type { JobMetrics, KindStats } from "./job-metrics.ts";
import { endProcessSpan, endSendSpans, runInSpan, startProcessSpan, startSendSpans } from "./job-tracing.ts";
import type { ErrorReporter } from "./on-error.ts";
import { tracesNothing } from "./tracer.ts";

/**
 * The app's one observer of its jobs: metrics, traces, the error hook and diagnostics channels,
 * each switched on by the app (a field left undefined costs nothing).
 *
 * @example
 * ```ts
 * const watch = new JobsWatch();
 * watch.tracer = tendTracer();
 * jobs.observe(watch);
 * ```
 */
export class JobsWatch implements JobObserver {
  metrics: JobMetrics | undefined;
  tracer: Tracer | undefined;
  errors: ErrorReporter | undefined;

  enqueue(jobs: NewJob[]): EnqueueObservation | undefined {
    const spans = this.tracer === undefined ? null : startSendSpans(this.tracer, jobs);
    const metrics = this.metrics;
    if (spans === null && metrics === undefined && !CHANNELS.jobEnqueue.hasSubscribers) return undefined;
    return {
      end: (error, results) => {
        if (spans !== null) endSendSpans(spans, error, results === null ? null : results.map((r) => r.id));
        if (results !== null) metrics?.enqueued(jobs, results);
        if (CHANNELS.jobEnqueue.hasSubscribers)
          CHANNELS.jobEnqueue.publish(enqueueMessage(jobs, error, results));
      },
    };
  }

  attempt(job: ClaimedJob): AttemptObservation | undefined {
    const metrics = this.metrics;
    const errors = this.errors !== undefined && this.errors.size > 0 ? this.errors : undefined;
    const tracer = this.tracer;
    // No SDK registered: no span is built at all. Not sampled: nothing to run inside or end.
    let span: Span | undefined =
      tracer === undefined || tracesNothing(tracer) ? undefined : startProcessSpan(tracer, job);
    if (span !== undefined && !span.isRecording()) span = undefined;
    const channels = CHANNELS.jobStart.hasSubscribers || CHANNELS.jobEnd.hasSubscribers;
    if (metrics === undefined && errors === undefined && span === undefined && !channels) return undefined;
    const stats = metrics?.started(job, Date.now());
    if (CHANNELS.jobStart.hasSubscribers) CHANNELS.jobStart.publish(jobMessage(job));
    // One object per attempt (no closures); `run` only when there is a span to enter.
    return span === undefined
      ? new WatchedAttempt(job, metrics, stats, errors)
      : new TracedAttempt(job, metrics, stats, errors, span);
  }

  rescued(jobs: readonly RescuedJob[]): void {
    this.metrics?.rescued(jobs);
    if (CHANNELS.jobRescued.hasSubscribers) CHANNELS.jobRescued.publish({ jobs });
  }
}

function jobMessage(job: ClaimedJob): Record<string, unknown> {
  return {
    jobId: job.id,
    kind: job.kind,
    queue: job.queue,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
  };
}

function enqueueMessage(
  jobs: readonly NewJob[],
  error: unknown,
  results: readonly InsertResult[] | null,
): Record<string, unknown> {
  return {
    jobs: jobs.map((job, i) => ({
      kind: job.kind,
      queue: job.queue,
      id: results?.[i]?.id ?? null,
      inserted: results?.[i]?.inserted ?? false,
    })),
    error,
  };
}

/** An attempt being watched: its metrics, the error hook and the channels at its end. */
class WatchedAttempt implements AttemptObservation {
  readonly #job: ClaimedJob;
  readonly #metrics: JobMetrics | undefined;
  readonly #stats: KindStats | undefined;
  readonly #errors: ErrorReporter | undefined;
  readonly #startedAt = performance.now();

  constructor(
    job: ClaimedJob,
    metrics: JobMetrics | undefined,
    stats: KindStats | undefined,
    errors: ErrorReporter | undefined,
  ) {
    this.#job = job;
    this.#metrics = metrics;
    this.#stats = stats;
    this.#errors = errors;
  }

  end(outcome: AttemptOutcome, detail: AttemptEnd): void {
    const ms = performance.now() - this.#startedAt;
    const job = this.#job;
    if (this.#stats !== undefined) this.#metrics?.finished(this.#stats, outcome, detail, ms / 1000);
    this.ended(outcome, detail);
    if (outcome === "failed" && this.#errors !== undefined) {
      this.#errors.report(detail.error, {
        part: "jobs",
        event: detail.discarded === true ? "job.discarded" : "job.failed",
        jobId: job.id,
        kind: job.kind,
        queue: job.queue,
        attempt: job.attempt,
        maxAttempts: job.maxAttempts,
      });
    }
    if (CHANNELS.jobEnd.hasSubscribers) {
      CHANNELS.jobEnd.publish({
        ...jobMessage(job),
        outcome: outcome === "failed" && detail.discarded === true ? "discarded" : outcome,
        durationMs: ms,
        error: detail.error,
      });
    }
  }

  /** Ends what a subclass started. */
  protected ended(_outcome: AttemptOutcome, _detail: AttemptEnd): void {}
}

/** An attempt with a recording span, active while the handler runs. */
class TracedAttempt extends WatchedAttempt {
  readonly #span: Span;

  constructor(
    job: ClaimedJob,
    metrics: JobMetrics | undefined,
    stats: KindStats | undefined,
    errors: ErrorReporter | undefined,
    span: Span,
  ) {
    super(job, metrics, stats, errors);
    this.#span = span;
  }

  run<T>(fn: () => T): T {
    return runInSpan(this.#span, fn);
  }

  protected override ended(outcome: AttemptOutcome, detail: AttemptEnd): void {
    endProcessSpan(this.#span, outcome, detail);
  }
}
