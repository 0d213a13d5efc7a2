/**
 * Observability: the metrics registry (prom-client, loaded on first use), the metric families of
 * each part, traces and the error hook. This file is the folder's face towards the rest of tend.
 */
export { createRegistry, fleetRegistry } from "./registry.ts";
export { type QueueMetricsOptions, registerQueueMetrics } from "./queue-metrics.ts";
export { CHANNELS } from "./channels.ts";
export { errorType } from "./error-type.ts";
export { JobMetrics } from "./job-metrics.ts";
export { tendTracer, tracesNothing } from "./tracer.ts";
export { JobsWatch } from "./jobs-watch.ts";
export { type ErrorContext, type ErrorHook, ErrorReporter } from "./on-error.ts";
export { formatTraceContext, parseTraceContext } from "./trace-context.ts";
export { registerConvergerMetrics } from "./converge-metrics.ts";
export { ConvergeWatch } from "./converge-watch.ts";
export { InboxWatch } from "./inbox-watch.ts";
export { registerSupervisorMetrics } from "./supervisor-metrics.ts";
