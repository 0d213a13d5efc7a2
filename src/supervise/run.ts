import { optionKeys, rejectUnknownKeys } from "../errors/index.ts";
import type { Manager, Task } from "../lifecycle/index.ts";
import { createLogger, type Logger } from "../log/index.ts";
import type { SuperviseOptions } from "./options.ts";
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

/**
 * A Task that turns SIGHUP into a rolling restart of the supervisor's workers until aborted.
 *
 * @example
 * ```ts
 * manager.run(hangupTask(supervisor, log));
 * ```
 */
export function hangupTask(supervisor: Supervisor, log: Logger): Task {
  return {
    name: "supervise.sighup",
    async run(signal: AbortSignal): Promise<void> {
      const onHup = (): void => {
        log.info("SIGHUP: rolling restart of every worker (new code on disk)");
        supervisor.rollingRestart().catch((err: unknown) => log.error({ err }, "rolling restart failed"));
      };
      process.on("SIGHUP", onHup);
      try {
        await new Promise((resolve) => {
          if (signal.aborted) resolve(undefined);
          signal.addEventListener("abort", resolve, { once: true });
        });
      } finally {
        process.off("SIGHUP", onHup);
      }
    },
  };
}

/**
 * Runs a supervisor as the process's program, under the lifecycle `main()`: SIGTERM or SIGINT
 * stops every worker gracefully and exits 0; SIGHUP rolls the workers; if the restart intensity
 * is exceeded it stops the rest and exits 1. Resolves with the exit code (after calling `exit`).
 *
 * @example
 * ```ts
 * await supervise({ program: "./app.ts", min: 1, max: 8, database: "sqlite:./var/tend.db" });
 * ```
 */
export async function supervise(options: SuperviseOptions, run: SuperviseRunOptions = {}): Promise<number> {
  rejectUnknownKeys("supervise run options", run, RUN_KEYS);
  const log = options.log ?? createLogger();
  const supervisor = createSupervisor({ ...options, log });
  run.onCreated?.(supervisor);
  const o = supervisor.options;
  const { main } = await import("../lifecycle/index.ts");
  // The budget covers a worker's graceful stop, then SIGTERM and SIGKILL to its group.
  const shutdownTimeout = o.killTimeoutMs + o.termGraceMs + 5_000;
  return main(
    async (manager) => {
      await run.setup?.(manager, supervisor);
      manager.run(supervisor.task());
      manager.run(hangupTask(supervisor, log));
    },
    {
      log,
      shutdownTimeout,
      signals: ["SIGINT", "SIGTERM"],
      onSignal: (sig) => log.info({ signal: sig }, `${sig}: stopping every worker gracefully`),
      ...(run.exit === undefined ? {} : { exit: run.exit }),
    },
  );
}
