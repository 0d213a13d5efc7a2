import { createRequire } from "node:module";
import type * as PromClientModule from "prom-client";

/** The prom-client module's type. */
export type PromClient = typeof PromClientModule;

let loaded: PromClient | undefined;

/**
 * prom-client, loaded on first use: an app that never exposes metrics never pays its start-up
 * cost (a quarter of a second on a loaded machine).
 *
 * @example
 * ```ts
 * const { Registry } = promClient();
 * ```
 */
export function promClient(): PromClient {
  loaded ??= createRequire(import.meta.url)("prom-client") as PromClient;
  return loaded;
}
