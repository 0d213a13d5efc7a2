import { isSpanContextValid, type SpanContext, type Tracer } from "@opentelemetry/api";
import type {
  ConvergeObserver,
  ConvergeRunObservation,
  ConvergeRunOutcome,
  ConvergeSweepObservation,
} from "../converge/index.ts";
import { CHANNELS } from "./channels.ts";
import type { ErrorReporter } from "./on-error.ts";
import { endWorkSpan, runInWorkSpan, startWorkSpan } from "./part-tracing.ts";

/**
 * The app's observer of its convergers: a span per sweep (`sweep <converger>`) and per key run
 * (`converge <converger>`), the `tend:converger:*` diagnostics channels, and the error hook
 * (`converger.error`). A field left undefined costs nothing; a run nobody watches (no SDK
 * recording, no channel subscriber) gets no observation at all.
 *
 * @example
 * ```ts
 * const watch = new ConvergeWatch();
 * watch.tracer = tendTracer();
 * convergers.observe((error, where) => watch.error(error, where), watch);
 * ```
 */
export class ConvergeWatch implements ConvergeObserver {
  tracer: Tracer | undefined;
  errors: ErrorReporter | undefined;

  run(
    converger: string,
    key: string,
    failures: number,
    origin?: unknown,
  ): ConvergeRunObservation | undefined {
    const span =
      this.tracer === undefined
        ? undefined
        : startWorkSpan(
            this.tracer,
            `converge ${converger}`,
            {
              "tend.converger.name": converger,
              "tend.converger.key": key,
              "tend.converger.failures": failures,
            },
            // Linked to the sweep that found the key (its span context is the sweep's origin).
            isSpanContext(origin) ? [{ context: origin }] : undefined,
          );
    const started = CHANNELS.convergerStart.hasSubscribers;
    if (span === undefined && !started && !CHANNELS.convergerEnd.hasSubscribers) return undefined;
    if (started) CHANNELS.convergerStart.publish({ converger, key, failures });
    const startedAt = performance.now();
    return {
      run: (fn) => runInWorkSpan(span, fn),
      end: (outcome: ConvergeRunOutcome, error: unknown) => {
        if (span !== undefined) endWorkSpan(span, { "tend.converger.outcome": outcome }, error);
        if (CHANNELS.convergerEnd.hasSubscribers) {
          CHANNELS.convergerEnd.publish({
            converger,
            key,
            failures,
            outcome,
            durationMs: performance.now() - startedAt,
            error,
          });
        }
      },
    };
  }

  sweep(converger: string): ConvergeSweepObservation | undefined {
    const span =
      this.tracer === undefined
        ? undefined
        : startWorkSpan(this.tracer, `sweep ${converger}`, { "tend.converger.name": converger });
    if (span === undefined && !CHANNELS.convergerSweep.hasSubscribers) return undefined;
    const startedAt = performance.now();
    return {
      ...(span === undefined ? {} : { origin: span.spanContext() }),
      run: (fn) => runInWorkSpan(span, fn),
      end: (error: unknown, keys: number) => {
        if (span !== undefined) endWorkSpan(span, { "tend.converger.keys": keys }, error);
        if (CHANNELS.convergerSweep.hasSubscribers) {
          CHANNELS.convergerSweep.publish({
            converger,
            keys,
            durationMs: performance.now() - startedAt,
            error,
          });
        }
      },
    };
  }

  inconsistency(converger: string, key: string, changes: unknown): void {
    if (CHANNELS.convergerInconsistency.hasSubscribers)
      CHANNELS.convergerInconsistency.publish({ converger, key, changes });
  }

  /** A failed `find` (no key) or `converge`: to the error hook and `tend:converger:error`. */
  error(error: unknown, where: { converger: string; key?: string }): void {
    this.errors?.report(error, {
      part: "converge",
      event: "converger.error",
      converger: where.converger,
      ...(where.key === undefined ? {} : { key: where.key }),
    });
    if (CHANNELS.convergerError.hasSubscribers)
      CHANNELS.convergerError.publish({ converger: where.converger, key: where.key ?? null, error });
  }
}

/** Whether a run's origin is a (valid) span context: the span of the sweep that found its key. */
function isSpanContext(origin: unknown): origin is SpanContext {
  return (
    typeof origin === "object" &&
    origin !== null &&
    typeof (origin as SpanContext).traceId === "string" &&
    typeof (origin as SpanContext).spanId === "string" &&
    isSpanContextValid(origin as SpanContext)
  );
}
