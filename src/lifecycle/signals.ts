import { constants } from "node:os";
import type { Logger } from "pino";
import {
  checkFunction,
  checkLogger,
  checkObject,
  checkString,
  invalidArgument,
  isArrayValue,
  optionKeys,
  rejectUnknownKeys,
} from "../errors/index.ts";
import { flushLogger } from "../log/index.ts";
import { currentTask } from "./context.ts";
import type { Task } from "./task.ts";

/**
 * The signals a {@link signalTask} listens for by default.
 *
 * @example
 * ```ts
 * signalTask({ signals: [...DEFAULT_SIGNALS, "SIGHUP"] });
 * ```
 */
export const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = Object.freeze(["SIGINT", "SIGTERM", "SIGQUIT"]);

/** Options for {@link signalTask}. */
export interface SignalTaskOptions {
  /** Signals to listen for. Default {@link DEFAULT_SIGNALS}. */
  signals?: readonly string[];
  /** Called with the signal's name when the first one arrives (before the task returns). */
  onSignal?: (signal: NodeJS.Signals) => void;
  /** Task name. Default `"signals"`. */
  name?: string;
  /** Logger. Default: the logger of the manager the task runs in. */
  log?: Logger;
  /** How to exit on a second signal. Default `process.exit`; tests may replace it. */
  exit?: (code: number) => void;
}

const KEYS = optionKeys<SignalTaskOptions>({
  signals: true,
  onSignal: true,
  name: true,
  log: true,
  exit: true,
});

/** A Task that returns when a signal arrives; see {@link signalTask}. */
export interface SignalTask extends Task, Disposable {
  /** The first signal received, if any. */
  readonly received: NodeJS.Signals | undefined;
  /** Removes the process signal listeners (restoring Node's default behaviour). */
  close(): void;
}

/**
 * The exit code a shell reports for a process ended by `signal`: 128 + its number.
 * Throws `TEND_E_UNKNOWN_SIGNAL` for a name the platform does not know.
 *
 * @example
 * ```ts
 * signalExitCode("SIGTERM"); // 143
 * signalExitCode("SIGINT"); // 130
 * ```
 */
export function signalExitCode(signal: string): number {
  const number = (constants.signals as Readonly<Record<string, number>>)[signal];
  if (number === undefined) throw unknownSignal(signal);
  return 128 + number;
}

/**
 * A Task that waits for a termination signal (SIGINT, SIGTERM, SIGQUIT by default) and then returns,
 * which shuts its Manager down. Signals are captured from the moment the task is created (one that
 * arrives before the manager runs it is kept). Once the first signal has arrived, or the task has
 * returned because shutdown began for another reason, a further signal exits the process at once
 * with 128 + the signal's number: the way out of a shutdown that hangs. Call `close()` when done.
 *
 * @example
 * ```ts
 * const signals = signalTask({ onSignal: (sig) => log.info({ sig }, "shutting down") });
 * manager.run(signals);
 * await manager.wait();
 * signals.close();
 * ```
 */
export function signalTask(options: SignalTaskOptions = {}): SignalTask {
  checkObject(
    "TEND_E_INVALID_LIFECYCLE_OPTION",
    "signalTask options",
    options,
    "an options object (or nothing)",
  );
  rejectUnknownKeys("signalTask options", options, KEYS, "TEND_E_INVALID_LIFECYCLE_OPTION");
  if (options.name !== undefined) checkString("TEND_E_INVALID_LIFECYCLE_OPTION", "name", options.name);
  if (options.log !== undefined) checkLogger("TEND_E_INVALID_LIFECYCLE_OPTION", "log", options.log);
  if (options.exit !== undefined)
    checkFunction("TEND_E_INVALID_LIFECYCLE_OPTION", "exit", options.exit, "a function (code) => void");
  const names = options.signals ?? DEFAULT_SIGNALS;
  if (!isArrayValue(names) || names.length === 0) {
    throw invalidArgument(
      "TEND_E_UNKNOWN_SIGNAL",
      "signals",
      names,
      "a non-empty array of signal names like SIGTERM",
    );
  }
  for (const name of names) if (!isCatchable(name)) throw unknownSignal(name);
  const { onSignal } = options;
  if (onSignal !== undefined)
    checkFunction("TEND_E_INVALID_LIFECYCLE_OPTION", "onSignal", onSignal, "a function (signal) => void");
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const taskName = options.name ?? "signals";
  let log = options.log;
  let received: NodeJS.Signals | undefined;
  let draining = false;
  let wake: (() => void) | undefined;

  const listener = (signal: NodeJS.Signals): void => {
    if (received === undefined && !draining) {
      received = signal;
      wake?.();
      return;
    }
    const code = signalExitCode(signal);
    if (log === undefined) {
      exit(code);
      return;
    }
    log.fatal({ signal, code }, `second signal (${signal}) during shutdown: exiting now with code ${code}`);
    // At most a moment for the last lines to reach stdout in order; then out.
    void flushLogger(log, 200).finally(() => exit(code));
  };
  const signals = [...new Set(names as NodeJS.Signals[])];
  for (const signal of signals) process.on(signal, listener);

  const close = (): void => {
    for (const signal of signals) process.off(signal, listener);
  };

  return {
    name: taskName,
    get received() {
      return received;
    },
    async run(signal: AbortSignal): Promise<void> {
      log ??= currentTask()?.log;
      // Signal listeners do not keep Node's event loop alive; waiting for a signal is work that should.
      let keepAlive: NodeJS.Timeout | undefined;
      try {
        if (received === undefined && !signal.aborted) {
          keepAlive = setInterval(() => {}, 1 << 30);
          await new Promise<void>((resolve) => {
            wake = resolve;
            signal.addEventListener("abort", () => resolve(), { once: true });
          });
        }
      } finally {
        clearInterval(keepAlive);
        wake = undefined;
        draining = true;
      }
      if (received !== undefined) {
        log?.info(
          { signal: received },
          `received ${received}: shutting down (send it again to exit at once)`,
        );
        onSignal?.(received);
      }
    },
    close,
    [Symbol.dispose]: close,
  };
}

function isCatchable(name: unknown): name is NodeJS.Signals {
  if (typeof name !== "string" || name === "SIGKILL" || name === "SIGSTOP") return false;
  return Object.hasOwn(constants.signals, name);
}

function unknownSignal(name: unknown) {
  return invalidArgument(
    "TEND_E_UNKNOWN_SIGNAL",
    "signal",
    name,
    "a catchable signal name this platform knows, such as SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1",
  );
}
