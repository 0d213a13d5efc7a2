import type { FleetStore } from "./fleet.ts";
import { rawConnection } from "./raw.ts";
import type { Store } from "./store.ts";

/**
 * The fleet of supervisor masters sharing the store's database, or null on SQLite (whose masters
 * are on one machine and share one status folder instead).
 *
 * @example
 * ```ts
 * const fleet = await fleetStore(store);
 * if (fleet !== null) for (const m of await fleet.masters()) console.log(m.host, m.alive);
 * ```
 */
export async function fleetStore(store: Store): Promise<FleetStore | null> {
  const raw = rawConnection(store);
  if (raw.driver !== "postgres") return null;
  const { PostgresFleetStore } = await import("./postgres/fleet.ts");
  return new PostgresFleetStore(raw.pool, raw.schema);
}
