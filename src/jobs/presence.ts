import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { invalidArgument, isTendError } from "../errors/index.ts";
import { type Duration, parseDuration, type Task } from "../lifecycle/index.ts";
import { type ProcessHeartbeat, type Store, TEND_VERSION } from "../store/index.ts";
import { TIMER_DURATION } from "./validate.ts";

/** What the presence task reports and how often. */
export interface PresenceSettings {
  workerId: string;
  /** Milliseconds between heartbeats; the row's lease is three of them. */
  intervalMs: number;
  /** The queues served, with their concurrency (read at each beat). */
  queues: () => ReadonlyMap<string, number>;
  /** Jobs running now (read at each beat). */
  inFlight: () => number;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

/**
 * Pure: this process's heartbeat row from what it knows of itself. `TEND_MASTER_PID` in the
 * environment (set by `tend supervise` for its workers) names the master.
 *
 * @example
 * ```ts
 * describeProcess({ workerId: "w1", queues: new Map([["default", 10]]), inFlight: 3, env: process.env });
 * ```
 */
export function describeProcess(input: {
  workerId: string;
  queues: ReadonlyMap<string, number>;
  inFlight: number;
  env: NodeJS.ProcessEnv;
  memory?: { rss: number; heapUsed: number };
}): ProcessHeartbeat {
  const master = Number(input.env["TEND_MASTER_PID"]);
  const restarts = Number(input.env["TEND_SLOT_RESTARTS"]);
  const supervised = input.env["TEND_SUPERVISED"] === "1";
  const memory = input.memory ?? process.memoryUsage();
  let concurrency = 0;
  for (const n of input.queues.values()) concurrency += n;
  return {
    id: input.workerId,
    host: hostname(),
    pid: process.pid,
    program: process.argv[1] ?? process.execPath,
    version: TEND_VERSION,
    masterPid: supervised && Number.isInteger(master) && master > 0 ? master : null,
    restarts:
      supervised && input.env["TEND_SLOT_RESTARTS"] !== "" && Number.isInteger(restarts) && restarts >= 0
        ? restarts
        : null,
    queues: [...input.queues.keys()],
    concurrency,
    inFlight: input.inFlight,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
  };
}

/**
 * Registers this process in the store's processes registry and refreshes its row every
 * `intervalMs` (a lease of three intervals), so the dashboard and `tend status --database` see
 * every process of the fleet, on any machine; removes the row at a clean stop. A failed beat is
 * logged once and retried at the next; it never stops the app.
 *
 * @example
 * ```ts
 * manager.run(presenceTask(store, { workerId, intervalMs: 10_000, queues: () => queues, inFlight: () => 0, log }));
 * ```
 */
export function presenceTask(store: Store, settings: PresenceSettings): Task {
  const { log } = settings;
  const env = settings.env ?? process.env;
  return {
    name: "jobs.presence",
    async run(signal) {
      let failing = false;
      while (!signal.aborted) {
        try {
          const beat = describeProcess({
            workerId: settings.workerId,
            queues: settings.queues(),
            inFlight: settings.inFlight(),
            env,
          });
          await store.processes.heartbeat(beat, 3 * settings.intervalMs);
          if (failing) log.info("process registry heartbeat written again");
          failing = false;
        } catch (err) {
          if (!failing)
            log.warn({ err }, "cannot write this process's heartbeat to the process registry; will retry");
          failing = true;
        }
        await sleep(settings.intervalMs, undefined, { signal }).catch(() => {});
      }
      try {
        await store.processes.remove(settings.workerId);
      } catch (err) {
        log.debug({ err }, "could not remove this process from the registry at stop; its row lapses");
      }
    },
  };
}

/**
 * The process registry's heartbeat interval (ms) from the `presence` option, or null for `false`.
 * Throws `TEND_E_INVALID_JOB_OPTIONS` naming the value and both accepted forms.
 *
 * @example
 * ```ts
 * presenceInterval("10s"); // 10000
 * presenceInterval(false); // null
 * ```
 */
export function presenceInterval(presence: Duration | false | undefined): number | null {
  if (presence === false) return null;
  try {
    return parseDuration(presence ?? "10s", "presence", TIMER_DURATION);
  } catch (err) {
    if (!isTendError(err)) throw err;
    const expected = (err.details as { expected?: string } | undefined)?.expected ?? "a positive duration";
    throw invalidArgument(err.code, "presence", presence, `false (no process registry row), or ${expected}`);
  }
}
