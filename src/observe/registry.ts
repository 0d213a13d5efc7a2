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
