import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import {
  checkFunction,
  checkObject,
  checkString,
  optionKeys,
  rejectUnknownKeys,
  TendError,
} from "../errors/index.ts";
import { monotonicMs } from "./clock.ts";
import { currentTask } from "./context.ts";
import { type Duration, MAX_TIMER_MS, parseDuration, parseTimeout } from "./duration.ts";
import { isAbortError, messageOf } from "./errors.ts";
import { linkSignals } from "./linked-signal.ts";
import type { Task } from "./task.ts";

/** Options for {@link every}. */
export interface EveryOptions {
  /** Task name. Default: the function's name (required if the function has none). */
  name?: string;
  /** Up to this much extra delay, chosen at random before each run, so that many processes spread out. */
  jitter?: Duration;
  /** Each run gets a signal that also aborts after this long; a run past it counts as failed. */
  timeout?: Duration;
  /** Run once at start instead of after the first interval. Default false. */
  immediate?: boolean;
  /** A failing run fails the task (and so shuts its Manager down). Default false: logged, next run goes on. */
  stopOnError?: boolean;
  /** Logger. Default: the logger of the manager the task runs in. */
  log?: Logger;
}

const KEYS = optionKeys<EveryOptions>({
  name: true,
  jitter: true,
  timeout: true,
  immediate: true,
  stopOnError: true,
  log: true,
});

/**
 * The delay before the next run of a periodic task: what is left of the interval since the last
 * run started (never negative, so a run longer than the interval is followed at once, with no
 * burst to catch up), plus `jitterMs * random`. Pure.
 *
 * @example
 * ```ts
 * nextRunDelay(30_000, 1_000, 0, 0.5); // 29000
 * nextRunDelay(1_000, 5_000, 0, 0); // 0
 * ```
 */
export function nextRunDelay(
  intervalMs: number,
  elapsedMs: number,
  jitterMs: number,
  random: number,
): number {
  return Math.max(0, intervalMs - elapsedMs) + Math.floor(jitterMs * random);
}

/**
 * A Task that calls `fn` every `interval` until its signal aborts. Runs never overlap: the next
 * one starts `interval` after the previous one started, or at once if it took longer. Each run
 * gets its own signal: the task's signal, combined (AbortSignal.any) with a `timeout` if given.
 * A failing run is logged and the task goes on, unless `stopOnError` is set.
 *
 * @example
 * ```ts
 * manager.run(every("5m", async function purgeOldRecords(signal: AbortSignal) {
 *   await db.query("delete from records where created_at < now() - interval '30 days'", { signal });
 * }, { jitter: "10s", timeout: "1m" }));
 * ```
 */
export function every(
  interval: Duration,
  fn: (signal: AbortSignal) => unknown,
  options: EveryOptions = {},
): Task {
  const intervalMs = parseTimeout(interval, "interval", "TEND_E_INVALID_INTERVAL");
  checkFunction("TEND_E_INVALID_TASK", "fn", fn, "a function (signal) => Promise<void>");
  checkObject("TEND_E_INVALID_LIFECYCLE_OPTION", "every options", options);
  const given = options.name ?? fn.name;
  rejectUnknownKeys(
    `every options of ${typeof given === "string" && given !== "" ? given : "a task"}`,
    options,
    KEYS,
  );
  const name = checkString(
    "TEND_E_INVALID_TASK",
    "name",
    given,
    "a non-empty name (options.name or a named function)",
  );
  const jitterMs =
    options.jitter === undefined
      ? 0
      : parseDuration(options.jitter, "jitter", { code: "TEND_E_INVALID_INTERVAL", max: MAX_TIMER_MS });
  const timeoutMs = options.timeout === undefined ? undefined : parseTimeout(options.timeout, "timeout");
  const immediate = options.immediate ?? false;
  const stopOnError = options.stopOnError ?? false;

  return {
    name,
    async run(signal: AbortSignal): Promise<void> {
      const log = options.log ?? currentTask()?.log;
      let lastStart: number | undefined;
      for (let n = 1; !signal.aborted; n++) {
        const elapsed = lastStart === undefined ? (immediate ? intervalMs : 0) : monotonicMs() - lastStart;
        const delay = nextRunDelay(intervalMs, elapsed, jitterMs, Math.random());
        if (delay > 0) {
          try {
            await sleep(delay, undefined, { signal });
          } catch {
            return; // aborted while waiting: a clean stop
          }
        }
        lastStart = monotonicMs();
        const link = timeoutMs === undefined ? null : linkSignals([signal], timeoutMs);
        const runSignal = link?.signal ?? signal;
        try {
          await fn(runSignal);
          if (runSignal.aborted && !signal.aborted) throw runSignal.reason;
        } catch (err) {
          if (signal.aborted && isAbortError(err, signal)) return;
          const failure =
            timeoutMs !== undefined && runSignal.aborted && !signal.aborted
              ? new TendError(
                  "TEND_E_RUN_TIMEOUT",
                  `Run ${n} of periodic task ${JSON.stringify(name)} took longer than its ${timeoutMs} ms timeout.`,
                  { details: { task: name, run: n, timeoutMs }, cause: err },
                )
              : err;
          if (stopOnError) throw failure;
          log?.error(
            { task: name, run: n, err: failure, durationMs: Math.round(monotonicMs() - lastStart) },
            `periodic run failed: ${messageOf(failure)}`,
          );
        } finally {
          link?.dispose();
        }
      }
    },
  };
}
