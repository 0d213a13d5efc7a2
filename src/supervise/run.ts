import { checkObject, optionKeys, rejectUnknownKeys } from "../errors/index.ts";
import type { Manager, Task } from "../lifecycle/index.ts";
import { createLogger, type Logger } from "../log/index.ts";
import { SUPERVISE_KEYS, type SuperviseOptions } from "./options.ts";
import { createSupervisor, type Supervisor } from "./supervisor.ts";

/** Extra options of {@link supervise}. */
export interface SuperviseRunOptions {
  /** How to exit (default `process.exit`); tests may replace it. */
  exit?: (code: number) => void;
  /** Called with the supervisor once it is created (before workers start). */
  onCreated?: (supervisor: Supervisor) => void;
  /**
   * Called with the manager before the supervisor's tasks start, to run more tasks beside them
   * (the CLI's `--http` server). A rejection fails the start.
   */
  setup?: (manager: Manager, supervisor: Supervisor) => Promise<void>;
}

const RUN_KEYS = optionKeys<SuperviseRunOptions>({ exit: true, onCreated: true, setup: true });

/** The SIGHUP task of {@link hangupTask}: a Task that also holds its signal listener until closed. */
export interface HangupTask extends Task, Disposable {
  /** Removes the SIGHUP listener (restoring Node's default: SIGHUP ends the process). */
  close(): void;
}

/**
 * A Task that turns SIGHUP into a rolling restart of the supervisor's workers until aborted.
 * Once aborted (the master is stopping) it keeps listening, and logs and ignores a SIGHUP
 * (a `systemctl reload` during a stop must not kill the master mid-drain, which Node's default
 * action would) until `close()`: call it when the master's shutdown is over.
 *
 * @example
 * ```ts
 * const hup = hangupTask(supervisor, log);
 * manager.run(hup);
 * await manager.wait();
 * hup.close();
 * ```
 */
export function hangupTask(supervisor: Supervisor, log: Logger): HangupTask {
  let stopping = false;
  let listening = false;
  const onHup = (): void => {
    if (stopping) {
      log.info("SIGHUP while stopping: ignored; the workers are finishing, then the master exits");
      return;
    }
    log.info("SIGHUP: rolling restart of every worker (new code on disk)");
    supervisor.rollingRestart().catch((err: unknown) => log.error({ err }, "rolling restart failed"));
  };
  const close = (): void => {
    if (listening) process.off("SIGHUP", onHup);
    listening = false;
  };
  return {
    name: "supervise.sighup",
    async run(signal: AbortSignal): Promise<void> {
      if (!listening) process.on("SIGHUP", onHup);
      listening = true;
      await new Promise((resolve) => {
        if (signal.aborted) resolve(undefined);
        signal.addEventListener("abort", resolve, { once: true });
      });
      // The listener stays (see above): the master's stop has only begun.
      stopping = true;
    },
    close,
    [Symbol.dispose]: close,
  };
}

/**
 * Runs a supervisor as the process's program, under the lifecycle `main()`: SIGTERM or SIGINT
 * stops every worker gracefully and exits 0; SIGHUP rolls the workers (and is ignored, logged,
 * once the stop has begun); if the restart intensity is exceeded it stops the rest and exits 1.
 * Resolves with the exit code (after calling `exit`).
 *
 * @example
 * ```ts
 * await supervise({ program: "./app.ts", min: 1, max: 8, database: "sqlite:./var/tend.db" });
 * ```
 */
export async function supervise(options: SuperviseOptions, run: SuperviseRunOptions = {}): Promise<number> {
  checkObject("TEND_E_SUPERVISE_INVALID_OPTION", "options", options, "an object with at least { program }");
  checkObject(
    "TEND_E_SUPERVISE_INVALID_OPTION",
    "supervise run options",
    run,
    "an options object (or nothing)",
  );
  rejectUnknownKeys("supervise run options", run, RUN_KEYS);
  // Read (and copied below) before createSupervisor checks them: a key or option that cannot be
  // read fails here as the supervisor's own error, not as a raw one from the copy.
  rejectUnknownKeys("supervisor options", options, SUPERVISE_KEYS, "TEND_E_SUPERVISE_INVALID_OPTION");
  const log = options.log ?? createLogger();
  const supervisor = createSupervisor({ ...options, log });
  run.onCreated?.(supervisor);
  const o = supervisor.options;
  const { main } = await import("../lifecycle/index.ts");
  // The budget covers a worker's graceful stop, then SIGTERM and SIGKILL to its group.
  const shutdownTimeout = o.killTimeoutMs + o.termGraceMs + 5_000;
  // Ignores SIGHUP from the start of the stop until the master has exited (see hangupTask).
  const hangup = hangupTask(supervisor, log);
  try {
    return await main(
      async (manager) => {
        await run.setup?.(manager, supervisor);
        manager.run(supervisor.task());
        manager.run(hangup);
      },
      {
        log,
        shutdownTimeout,
        signals: ["SIGINT", "SIGTERM"],
        onSignal: (sig) => log.info({ signal: sig }, `${sig}: stopping every worker gracefully`),
        ...(run.exit === undefined ? {} : { exit: run.exit }),
      },
    );
  } finally {
    hangup.close();
  }
}
