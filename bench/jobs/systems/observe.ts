/**
 * Observability for the bench's tend system (bench:jobs, observability phase): `on` puts job
 * metrics on a prom-client registry, spans through @opentelemetry/api (no SDK: no-ops) and an
 * onError hook on the Jobs instance, as createApp does; `sdk` also registers the OpenTelemetry
 * SDK with a BatchSpanProcessor whose exporter drops the spans (the cost of recording them, not
 * of a collector). The registry is scraped once a second, as Prometheus would.
 */
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Jobs, Logger } from "../../../src/index.ts";
import {
  createRegistry,
  ErrorReporter,
  JobMetrics,
  JobsWatch,
  tendTracer,
} from "../../../src/observe/index.ts";

/** Switches observability on for `jobs`; returns what stops it. */
export function observeJobs(jobs: Jobs, mode: "on" | "sdk", log: Logger): () => Promise<void> {
  let provider: BasicTracerProvider | undefined;
  if (mode === "sdk") {
    const dropping: SpanExporter = {
      export: (_spans, done) => done({ code: 0 }),
      shutdown: async () => {},
    };
    provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropping)] });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  }
  const registry = createRegistry();
  const watch = new JobsWatch();
  watch.metrics = new JobMetrics(registry, () => jobs.inFlight());
  watch.tracer = tendTracer();
  const errors = new ErrorReporter(log);
  let reported = 0;
  errors.add(() => void reported++);
  watch.errors = errors;
  jobs.observe(watch);
  const scrape = setInterval(() => void registry.metrics(), 1_000);
  return async () => {
    clearInterval(scrape);
    await provider?.shutdown();
  };
}
