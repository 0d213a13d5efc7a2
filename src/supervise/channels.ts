import { channel } from "node:diagnostics_channel";

/**
 * The master's `node:diagnostics_channel` channels (see docs/observability.md for each
 * message's fields). A message is built only when its channel has subscribers.
 *
 * @example
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 * subscribe("tend:supervisor:worker:exited", (m) => console.log(m));
 * ```
 */
export const SUPERVISOR_CHANNELS = {
  workerSpawned: channel("tend:supervisor:worker:spawned"),
  workerReady: channel("tend:supervisor:worker:ready"),
  workerExited: channel("tend:supervisor:worker:exited"),
  workerHung: channel("tend:supervisor:worker:hung"),
  workerReplaced: channel("tend:supervisor:worker:replaced"),
  scale: channel("tend:supervisor:scale"),
} as const;
