import type { Registry } from "prom-client";
import { promClient } from "./prom.ts";

/**
 * A new metrics registry with the process defaults (CPU, resident memory, heap, GC, event-loop
 * delay, handles), all prefixed by prom-client's standard names (`process_*`, `nodejs_*`).
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
  if (options.defaults !== false) client.collectDefaultMetrics({ register: registry });
  return registry;
}

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
