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
import { errorType } from "./error-type.ts";
import { tracesNothing } from "./tracer.ts";

/**
 * Starts an INTERNAL span for a piece of background work (a converger's sweep or key run, an
 * inbox file): a new trace, not a child of whatever is active where the work was scheduled,
 * with `links` to the spans it came from (a key run's sweep).
 * Returns undefined when no SDK records it, so that nothing more is spent on it.
 *
 * @example
 * ```ts
 * const span = startWorkSpan(tendTracer(), "converge billing", { "tend.converger.name": "billing" });
 * ```
 */
export function startWorkSpan(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  links?: Link[],
): Span | undefined {
  if (tracesNothing(tracer)) return undefined;
  const span = tracer.startSpan(name, {
    kind: SpanKind.INTERNAL,
    root: true,
    attributes,
    ...(links === undefined ? {} : { links }),
  });
  return span.isRecording() ? span : undefined;
}

/** Runs `fn` with `span` active (the work's own spans become its children). */
export function runInWorkSpan<T>(span: Span | undefined, fn: () => T): T {
  return span === undefined ? fn() : context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * Ends a work span: sets `attributes`, and on `error` (anything but null/undefined) the
 * `error.type` attribute, ERROR status and the exception event.
 *
 * @example
 * ```ts
 * endWorkSpan(span, { "tend.converger.outcome": "changed" }, null);
 * ```
 */
export function endWorkSpan(span: Span, attributes: Attributes, error: unknown): void {
  span.setAttributes(attributes);
  if (error !== null && error !== undefined) {
    span.setAttribute("error.type", errorType(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    if (error instanceof Error) span.recordException(error);
  }
  span.end();
}
