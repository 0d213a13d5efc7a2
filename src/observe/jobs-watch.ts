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
import type { JobMetrics } from "./job-metrics.ts";
import { endProcessSpan, endSendSpans, runInSpan, startProcessSpan, startSendSpans } from "./job-tracing.ts";
import type { ErrorReporter } from "./on-error.ts";

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
    let span: Span | undefined = this.tracer === undefined ? undefined : startProcessSpan(this.tracer, job);
    // No SDK registered (or this attempt not sampled): nothing to run inside or end.
    if (span !== undefined && !span.isRecording()) span = undefined;
    const channels = CHANNELS.jobStart.hasSubscribers || CHANNELS.jobEnd.hasSubscribers;
    if (metrics === undefined && errors === undefined && span === undefined && !channels) return undefined;
    const startedAt = performance.now();
    metrics?.started(job, Date.now());
    if (CHANNELS.jobStart.hasSubscribers) CHANNELS.jobStart.publish(jobMessage(job));
    return {
      run: span === undefined ? (fn) => fn() : (fn) => runInSpan(span, fn),
      end: (outcome: AttemptOutcome, detail: AttemptEnd) => {
        const ms = performance.now() - startedAt;
        metrics?.finished(job, outcome, detail, ms / 1000);
        if (span !== undefined) endProcessSpan(span, outcome, detail);
        if (outcome === "failed" && errors !== undefined) {
          errors.report(detail.error, {
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
      },
    };
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
