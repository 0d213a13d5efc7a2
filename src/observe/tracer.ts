import {
  ProxyTracer,
  ProxyTracerProvider,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";

/** What an unregistered proxy provider delegates to: the API's one no-op provider. */
const NO_SDK: TracerProvider = new ProxyTracerProvider().getDelegate();

/** The proxy provider each of tend's tracers came from, when it came from one. */
const proxiedBy = new WeakMap<Tracer, ProxyTracerProvider>();

/**
 * The tracer of tend (a no-op until the program registers an OpenTelemetry SDK).
 *
 * @example
 * ```ts
 * const span = tendTracer().startSpan("work");
 * ```
 */
export function tendTracer(): Tracer {
  const provider = trace.getTracerProvider();
  const tracer = provider.getTracer("tend");
  if (tracer instanceof ProxyTracer && provider instanceof ProxyTracerProvider)
    proxiedBy.set(tracer, provider);
  return tracer;
}

/**
 * True when `tracer` (from {@link tendTracer}) can only make non-recording spans, because no SDK
 * is registered behind it yet: its callers then build no span at all (no attributes, no
 * options, no span object), which is what an attempt costs the most with the API alone. A
 * proxy provider never loses its SDK once given one, so a later registration is seen at once.
 *
 * @example
 * ```ts
 * if (!tracesNothing(tracer)) span = tracer.startSpan("process default", options);
 * ```
 */
export function tracesNothing(tracer: Tracer): boolean {
  return proxiedBy.get(tracer)?.getDelegate() === NO_SDK;
}
