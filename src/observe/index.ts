/**
 * Observability: the metrics registry (prom-client, loaded on first use), the metric families of
 * each part, traces and the error hook. This file is the folder's face towards the rest of tend.
 */
export { createRegistry } from "./registry.ts";
export { type QueueMetricsOptions, registerQueueMetrics } from "./queue-metrics.ts";
