import { isSea } from "node:sea";
import { type Command, InvalidArgumentError } from "commander";
import { checkQueue } from "../../jobs/index.ts";
import { type Duration, durationFromText } from "../../lifecycle/index.ts";
import { createLogger } from "../../log/index.ts";
import { supervise } from "../../supervise/index.ts";
import { databaseOption } from "../database.ts";
import { loadErrorHookModule } from "../error-hook-module.ts";
import {
  checkHttpOptions,
  type HttpSettings,
  parseHttpAddress,
  serveObservability,
} from "../../http/index.ts";
import type { Manager } from "../../lifecycle/index.ts";
import type { Logger } from "../../log/index.ts";
import { createRegistry, fleetRegistry, registerSupervisorMetrics } from "../../observe/index.ts";
import type { Supervisor } from "../../supervise/index.ts";

/**
 * The master's HTTP surface (`--http`): probes, and the supervisor's metrics with the process
 * defaults. `/readyz` is ready while the supervisor runs its workers.
 */
async function serveSupervisor(
  settings: HttpSettings,
  manager: Manager,
  supervisor: Supervisor,
  log: Logger,
): Promise<void> {
  const registry = createRegistry();
  registerSupervisorMetrics(registry, supervisor);
  const { task } = await serveObservability({
    settings,
    registry,
    // One scrape sees the fleet: the master's metrics and the last snapshot each ready worker
    // sent after its heartbeat, aggregated (counters and histograms summed, queue gauges not).
    metrics: async () => {
      const fleet = fleetRegistry([await registry.getMetricsAsJSON(), ...supervisor.workerMetrics()]);
      return { contentType: fleet.contentType, body: await fleet.metrics() };
    },
    shutdownReason: () => manager.shutdownReason,
    checkStore: async () => {
      const state = supervisor.status().state;
      if (state !== "running" && state !== "starting") throw new Error(`the supervisor is ${state}`);
    },
    serveWhile: () => manager.tasks.some((name) => name !== "http"),
    budgetMs: 5_000,
    log: log.child({ part: "http" }),
  });
  manager.run(task);
}

/**
 * Parses a number argument; keeps text that is not a number as it was, so that the validation
 * error names what was typed.
 *
 * @example
 * ```ts
 * numberArg("8"); // 8
 * ```
 */
/**
 * Parses one `--queue` (repeatable, not variadic: a variadic option would swallow the program
 * after it) into the list so far, checked as a queue name.
 */
export function queueArg(text: string, previous: string[] | undefined): string[] {
  try {
    return [...(previous ?? []), checkQueue(text)];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function numberArg(text: string): number {
  const n = Number(text);
  return text.trim() !== "" && Number.isFinite(n) ? n : (text as unknown as number);
}

interface SuperviseFlags {
  min?: number;
  max?: number;
  database: string;
  queue?: string[];
  statusFile?: string;
  startTimeout?: Duration;
  hangTimeout?: Duration;
  stallTimeout?: Duration;
  killTimeout?: Duration;
  heartbeat?: Duration;
  scaleInterval?: Duration;
  masterLease?: Duration;
  scaleDownCooldown?: Duration;
  jobsPerWorker?: number;
  maxRestarts?: number;
  restartPeriod?: Duration;
  spare: boolean;
  http?: string;
  onError?: string;
}

/**
 * `tend supervise <program>`: runs the program's worker mode in N processes (see docs/deploy.md).
 *
 * @example
 * ```sh
 * tend supervise app.ts --min 1 --max 8 --database postgres://app@db/app
 * ```
 */
export function register(program: Command): void {
  program
    .command("supervise")
    .description("run a program's workers in N processes: autoscaled, watched, replaced, stopped gracefully")
    .argument(
      "[program]",
      "the program (a script that calls app.main()); inside an executable made by `tend build`: omit it, the executable runs itself",
    )
    .argument("[args...]", "arguments passed to the program")
    .option("--min <n>", "fewest workers (default 1)", numberArg)
    .option("--max <n>", "most workers (default: min)", numberArg)
    .addOption(databaseOption())
    .option(
      "-q, --queue <name>",
      "a queue whose backlog drives scaling; repeat for several (default: all)",
      queueArg,
    )
    .option("--status-file <path>", "status file for `tend status` (default ./var/tend-supervisor.json)")
    .option(
      "--start-timeout <duration>",
      "a worker not ready within this is killed (default 30s)",
      durationFromText,
    )
    .option(
      "--hang-timeout <duration>",
      "a worker without heartbeat this long is killed (default 10s)",
      durationFromText,
    )
    .option(
      "--stall-timeout <duration>",
      "a worker with jobs in flight and no completion this long is killed (default 5m)",
      durationFromText,
    )
    .option(
      "--kill-timeout <duration>",
      "graceful stop budget before SIGTERM/SIGKILL to a worker's group (default 30s)",
      durationFromText,
    )
    .option("--heartbeat <duration>", "worker heartbeat interval (default 1s)", durationFromText)
    .option(
      "--scale-interval <duration>",
      "how often queue statistics are read (default 1s)",
      durationFromText,
    )
    .option(
      "--scale-down-cooldown <duration>",
      "idle time before each worker removed (default 60s)",
      durationFromText,
    )
    .option("--jobs-per-worker <n>", "backlog that justifies one worker (default 10)", numberArg)
    .option("--max-restarts <n>", "restart intensity: at most this many restarts... (default 5)", numberArg)
    .option(
      "--http <address>",
      "serve /healthz, /readyz and /metrics (the supervisor's and its workers') on PORT or HOST:PORT (host default 127.0.0.1)",
    )
    .option(
      "--master-lease <duration>",
      "PostgreSQL: a master silent this long counts as dead and the others take its share (default 10s)",
      durationFromText,
    )
    .option(
      "--on-error <module>",
      "a module whose default export (error, context) is called for every worker crash (e.g. to report it to an error service)",
    )
    .option("--no-spare", "do not keep a pre-booted spare process (replacements then start cold)")
    .option(
      "--restart-period <duration>",
      "...within this window, else give up and exit 1 (default 60s)",
      durationFromText,
    )
    .action(async (programPath: string | undefined, args: string[], flags: SuperviseFlags) => {
      const scaling = {
        ...(flags.scaleDownCooldown === undefined ? {} : { scaleDownCooldown: flags.scaleDownCooldown }),
        ...(flags.jobsPerWorker === undefined ? {} : { jobsPerWorker: flags.jobsPerWorker }),
      };
      const restart = {
        ...(flags.maxRestarts === undefined ? {} : { maxRestarts: flags.maxRestarts }),
        ...(flags.restartPeriod === undefined ? {} : { period: flags.restartPeriod }),
      };
      const log = createLogger({ destination: "stderr" });
      // Checked before anything starts: a bad address fails with its code at once.
      const http = flags.http === undefined ? undefined : checkHttpOptions(parseHttpAddress(flags.http));
      // Workers inherit the master's environment: with --http they send their metrics after heartbeats.
      if (http !== undefined) process.env["TEND_METRICS"] = "1";
      const onError = flags.onError === undefined ? undefined : await loadErrorHookModule(flags.onError);
      await supervise(
        {
          log,
          // Inside a single executable, the program is the executable itself.
          program: programPath ?? (isSea() ? process.execPath : ""),
          args,
          database: flags.database,
          scaling,
          restart,
          spare: flags.spare,
          ...(onError === undefined ? {} : { onError }),
          ...(flags.min === undefined ? {} : { min: flags.min }),
          ...(flags.max === undefined ? {} : { max: flags.max }),
          ...(flags.queue === undefined ? {} : { queues: flags.queue }),
          ...(flags.statusFile === undefined ? {} : { statusFile: flags.statusFile }),
          ...(flags.startTimeout === undefined ? {} : { startTimeout: flags.startTimeout }),
          ...(flags.hangTimeout === undefined ? {} : { hangTimeout: flags.hangTimeout }),
          ...(flags.stallTimeout === undefined ? {} : { stallTimeout: flags.stallTimeout }),
          ...(flags.killTimeout === undefined ? {} : { killTimeout: flags.killTimeout }),
          ...(flags.heartbeat === undefined ? {} : { heartbeat: flags.heartbeat }),
          ...(flags.scaleInterval === undefined ? {} : { scaleInterval: flags.scaleInterval }),
          ...(flags.masterLease === undefined ? {} : { masterLease: flags.masterLease }),
        },
        http === undefined
          ? {}
          : { setup: (manager, supervisor) => serveSupervisor(http, manager, supervisor, log) },
      );
    });
}
