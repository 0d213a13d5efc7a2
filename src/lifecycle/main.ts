import type { Logger } from "pino";
import {
  checkObject,
  invalidArgument,
  isInstance,
  isTendError,
  optionKeys,
  rejectUnknownKeys,
} from "../errors/index.ts";
import { createLogger, flushLogger } from "../log/index.ts";
import { ManagerError, messageOf, shutdownTimeout } from "./errors.ts";
import { Manager, type ManagerOptions } from "./manager.ts";
import { signalTask } from "./signals.ts";

/**
 * Exit code of a clean shutdown. With {@link EXIT_FAILURE} and {@link EXIT_SHUTDOWN_TIMEOUT}, the
 * codes {@link main} exits with (a second signal n exits with 128 + n).
 *
 * @example
 * ```ts
 * if (exitCodeFor(err) === EXIT_SHUTDOWN_TIMEOUT) alertOnCall();
 * ```
 */
export const EXIT_OK = 0;
/** Exit code when a task (or a cleanup, or the program's setup) failed. */
export const EXIT_FAILURE = 1;
/** Exit code when tasks were still running after the shutdown timeout (EX_SOFTWARE). */
export const EXIT_SHUTDOWN_TIMEOUT = 70;

/** What {@link main} runs: a Manager, or a function that registers tasks on the one main creates. */
export type MainSetup = (manager: Manager, log: Logger) => void | Promise<void>;

/** Options for {@link main}; the Manager options apply when main creates the manager. */
export interface MainOptions extends ManagerOptions {
  /** Signals that start a graceful shutdown; `false` for none. Default SIGINT, SIGTERM, SIGQUIT. */
  signals?: readonly string[] | false;
  /** Called when the first signal arrives. */
  onSignal?: (signal: NodeJS.Signals) => void;
  /** How to exit. Default `process.exit`. */
  exit?: (code: number) => void;
}

const MAIN_KEYS = optionKeys<MainOptions>({
  log: true,
  shutdownTimeout: true,
  cleanupTimeout: true,
  captureCrashes: true,
  signals: true,
  onSignal: true,
  exit: true,
});

/**
 * The exit code for an outcome of `Manager.wait()`: 0 for none, 70 if the shutdown timed out
 * (even after a task failure: hung tasks are the fact an operator must see), 1 for any other error.
 * A second signal during shutdown exits with 128 + its number instead (see signalTask).
 *
 * @example
 * ```ts
 * exitCodeFor(undefined); // 0
 * ```
 */
export function exitCodeFor(error: unknown): number {
  if (error === undefined) return EXIT_OK;
  const errors = isInstance(error, ManagerError) ? error.errors : [error];
  return errors.some((e) => isTendError(e, "TEND_E_SHUTDOWN_TIMEOUT")) ? EXIT_SHUTDOWN_TIMEOUT : EXIT_FAILURE;
}

/**
 * Runs a program: listens for signals, runs the manager's tasks, waits for them, logs the outcome
 * ("clean shutdown" on success), flushes the logs and exits: 0 on a clean shutdown, 1 when a task
 * (or cleanup) failed, 70 when the shutdown timed out, 128 + n on a second signal n during shutdown.
 * Returns the exit code (useful when `exit` is replaced).
 *
 * @example
 * ```ts
 * await main((manager, log) => {
 *   manager.run(every("30s", async function purge(signal: AbortSignal) { await purgeOld(signal); }));
 *   manager.cleanup(() => pool.end(), { name: "pool" });
 * });
 * ```
 */
export async function main(setup: Manager | MainSetup, options: MainOptions = {}): Promise<number> {
  if (!isInstance(setup, Manager) && typeof setup !== "function") {
    throw invalidArgument(
      "TEND_E_INVALID_LIFECYCLE_OPTION",
      "setup",
      setup,
      "a Manager or a function (manager, log)",
    );
  }
  checkObject("TEND_E_INVALID_LIFECYCLE_OPTION", "main options", options, "an options object (or nothing)");
  rejectUnknownKeys("main options", options, MAIN_KEYS);
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let manager: Manager;
  let base: Logger;
  if (isInstance(setup, Manager)) {
    manager = setup;
    base = manager.log;
  } else {
    const { signals: _signals, onSignal: _onSignal, exit: _exit, ...managerOptions } = options;
    base = options.log ?? createLogger();
    manager = new Manager({ ...managerOptions, log: base });
  }
  const log = manager.log;
  let signals =
    options.signals === false
      ? undefined
      : signalTask({
          ...(options.signals === undefined ? {} : { signals: options.signals }),
          ...(options.onSignal === undefined ? {} : { onSignal: options.onSignal }),
          log,
          exit,
        });
  let code: number;
  // The outcome of stopping after a failed setup (a shutdown timeout there is exit 70, not 1).
  let stopFailure: unknown;
  try {
    if (signals !== undefined) {
      try {
        manager.run(signals);
      } catch (err) {
        // A ready Manager that runs a signal task of its own already, or that is stopping already
        // (a task failed): its outcome is still awaited below, with its tasks drained and its
        // cleanups run, instead of exiting at once.
        if (!isTendError(err, "TEND_E_DUPLICATE_TASK") && !isTendError(err, "TEND_E_MANAGER_STOPPED"))
          throw err;
        signals.close();
        signals = undefined;
      }
    }
    if (!(setup instanceof Manager)) {
      try {
        await boundedByShutdown(manager, setup(manager, base));
      } catch (err) {
        // A signal (or a failing task) during a slow setup makes its next registration throw
        // TEND_E_MANAGER_STOPPED: shutdown was asked for; the outcome is the manager's, not a setup failure.
        if (!(isTendError(err, "TEND_E_MANAGER_STOPPED") && manager.shutdownReason !== undefined)) {
          log.error({ err }, `program setup failed: ${messageOf(err)}`);
          await manager.stop("setup failed").catch((failure: unknown) => {
            stopFailure = failure;
          });
          throw err;
        }
        log.info({ reason: manager.shutdownReason }, "setup cut short: shutdown began while it ran");
      }
    }
    await manager.wait();
    code = EXIT_OK;
    log.info({ code }, "clean shutdown");
  } catch (err) {
    code = Math.max(exitCodeFor(err), stopFailure === undefined ? 0 : exitCodeFor(stopFailure), EXIT_FAILURE);
    log.error(
      { err, ...(stopFailure === undefined ? {} : { stopErr: stopFailure }), code },
      code === EXIT_SHUTDOWN_TIMEOUT ? "shutdown timed out" : "stopped with errors",
    );
  }
  await flushLogger(log);
  signals?.close();
  exit(code);
  return code;
}

/**
 * Settles as `setup` does, unless shutdown begins while it still runs and it does not return
 * within the manager's shutdown timeout after that: then rejects with TEND_E_SHUTDOWN_TIMEOUT, so
 * that a signal during a slow setup still ends the program within the bound (exit 70).
 */
function boundedByShutdown(manager: Manager, setup: Promise<void> | void): Promise<void> {
  if (!isThenable(setup)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopListening = manager.onShutdownStart(() => {
      timer = setTimeout(() => {
        manager.log.error(
          { timeoutMs: manager.shutdownTimeoutMs },
          "the program's setup did not return within the shutdown timeout after shutdown began",
        );
        reject(shutdownTimeout(["program setup"], manager.shutdownTimeoutMs));
      }, manager.shutdownTimeoutMs);
    });
    setup.then(
      () => {
        clearTimeout(timer);
        stopListening();
        resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        stopListening();
        reject(err);
      },
    );
  });
}

function isThenable(value: unknown): value is Promise<void> {
  return typeof (value as { then?: unknown } | undefined)?.then === "function";
}
