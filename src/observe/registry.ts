import type { Registry } from "prom-client";
import { promClient } from "./prom.ts";

/**
 * A new metrics registry with the process defaults (CPU, resident memory, heap, GC, event-loop
 * delay, handles), all prefixed by prom-client's standard names (`process_*`, `nodejs_*`), less
 * the three gauges named `*_total` (`nodejs_active_handles_total`, ...: `sum` their by-type
 * siblings instead).
 *
 * @example
 * ```ts
 * const registry = createRegistry();
 * await registry.metrics(); // Prometheus text
 * ```
 */
export function createRegistry(options: { defaults?: boolean } = {}): Registry {
  const client = promClient();
  const registry = new client.Registry();
  if (options.defaults !== false) {
    client.collectDefaultMetrics({ register: registry });
    // Gauges named like counters, which `promtool check metrics` rejects; their by-type
    // siblings (`nodejs_active_handles{type}`, ...) stay, and sum to the same totals.
    for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  }
  return registry;
}

/** prom-client's default gauges whose `_total` suffix marks counters in Prometheus' conventions. */
const MISNAMED_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
] as const;

/**
 * One registry holding the aggregate of several processes' metrics (prom-client JSON snapshots):
 * each family merged by its aggregator (sum for counters and histograms, max for tend's global
 * queue gauges, min for `tend_store_up`).
 *
 * @example
 * ```ts
 * const fleet = fleetRegistry([await master.getMetricsAsJSON(), ...workerSnapshots]);
 * await fleet.metrics();
 * ```
 */
export function fleetRegistry(snapshots: unknown[][]): Registry {
  const { AggregatorRegistry } = promClient();
  return AggregatorRegistry.aggregate(snapshots as Parameters<typeof AggregatorRegistry.aggregate>[0]);
}
