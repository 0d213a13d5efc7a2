import { channel } from "node:diagnostics_channel";

/**
 * tend's `node:diagnostics_channel` channels, for APM agents and your own probes. A message is
 * built only when a channel has subscribers, so they cost nothing otherwise. See
 * docs/observability.md for each message's fields. (The supervisor's channels, published by the
 * master, are `tend:supervisor:*`; see the supervise part.)
 *
 * @example
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 * subscribe("tend:job:end", (message) => console.log(message));
 * ```
 */
export const CHANNELS = {
  jobEnqueue: channel("tend:job:enqueue"),
  jobStart: channel("tend:job:start"),
  jobEnd: channel("tend:job:end"),
  jobRescued: channel("tend:job:rescued"),
  inboxFile: channel("tend:inbox:file"),
  convergerSweep: channel("tend:converger:sweep"),
  convergerStart: channel("tend:converger:start"),
  convergerEnd: channel("tend:converger:end"),
  convergerError: channel("tend:converger:error"),
  convergerInconsistency: channel("tend:converger:inconsistency"),
} as const;
