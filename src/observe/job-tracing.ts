import {
  type Attributes,
  context,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { AttemptEnd, AttemptOutcome, ClaimedJob, NewJob } from "../jobs/index.ts";
import { errorType } from "./error-type.ts";
import { formatTraceContext, parseTraceContext } from "./trace-context.ts";
import { tracesNothing } from "./tracer.ts";

/**
 * Starts the producer spans of an enqueue (`send <queue>`, one per queue of the call) and stores
 * each span's W3C context on its jobs. Returns the spans to end once the insert is done, or null
 * when no SDK records spans.
 *
 * @example
 * ```ts
 * const spans = startSendSpans(tendTracer(), jobs);
 * ```
 */
export function startSendSpans(tracer: Tracer, jobs: NewJob[]): Span[] | null {
  if (tracesNothing(tracer)) return null;
  const byQueue = new Map<string, NewJob[]>();
  for (const job of jobs) {
    const list = byQueue.get(job.queue);
    if (list === undefined) byQueue.set(job.queue, [job]);
    else list.push(job);
  }
  const spans: Span[] = [];
  for (const [queue, list] of byQueue) {
    const attributes: Attributes = {
      "messaging.system": "tend",
      "messaging.operation.name": "send",
      "messaging.operation.type": "send",
      "messaging.destination.name": queue,
    };
    if (list.length > 1) attributes["messaging.batch.message_count"] = list.length;
    else attributes["tend.job.kind"] = list[0]!.kind;
    const span = tracer.startSpan(`send ${queue}`, { kind: SpanKind.PRODUCER, attributes });
    if (!span.isRecording()) return null;
    const stored = formatTraceContext(span.spanContext());
    for (const job of list) job.traceContext = stored;
    spans.push(span);
  }
  return spans;
}

/** Ends enqueue spans with the insert's outcome (and the job id of a single job). */
export function endSendSpans(spans: Span[], error: unknown, ids: readonly string[] | null): void {
  for (const span of spans) {
    if (error !== null && error !== undefined) {
      span.setAttribute("error.type", errorType(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
    } else if (ids !== null && ids.length === 1 && spans.length === 1) {
      span.setAttribute("messaging.message.id", ids[0]!);
    }
    span.end();
  }
}

/**
 * Starts the consumer span of one attempt (`process <queue>`), linked to the span that enqueued
 * the job (its context stored with the job), and runs the handler inside it.
 *
 * @example
 * ```ts
 * const span = startProcessSpan(tendTracer(), job);
 * ```
 */
export function startProcessSpan(tracer: Tracer, job: ClaimedJob): Span {
  const enqueuer = job.traceContext === null ? null : parseTraceContext(job.traceContext);
  const links: Link[] | undefined = enqueuer === null ? undefined : [{ context: enqueuer }];
  return tracer.startSpan(`process ${job.queue}`, {
    kind: SpanKind.CONSUMER,
    // A new trace per attempt, linked to the enqueuer: not a child of whatever is active here.
    // (`root` rather than a context without the active span: the no-op tracer then returns at once.)
    root: true,
    ...(links === undefined ? {} : { links }),
    attributes: {
      "messaging.system": "tend",
      "messaging.operation.name": "process",
      "messaging.operation.type": "process",
      "messaging.destination.name": job.queue,
      "messaging.message.id": job.id,
      "tend.job.kind": job.kind,
      "tend.job.attempt": job.attempt,
    },
  });
}

/** Runs `fn` with `span` active (the handler's own spans become its children). */
export function runInSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Ends an attempt's span with its outcome. */
export function endProcessSpan(span: Span, outcome: AttemptOutcome, detail: AttemptEnd): void {
  span.setAttribute(
    "tend.job.outcome",
    outcome === "failed" && detail.discarded === true ? "discarded" : outcome,
  );
  if (outcome === "failed") {
    span.setAttribute("error.type", errorType(detail.error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(detail.error) });
    if (detail.error instanceof Error) span.recordException(detail.error);
  }
  span.end();
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
