import type { Command } from "commander";
import { supervise } from "../../supervise/index.ts";
import { databaseOption } from "../database.ts";

/**
 * Parses a number argument; keeps text that is not a number as it was, so that the validation
 * error names what was typed.
 *
 * @example
 * ```ts
 * numberArg("8"); // 8
 * ```
 */
export function numberArg(text: string): number {
  const n = Number(text);
  return text.trim() !== "" && Number.isFinite(n) ? n : (text as unknown as number);
}

/**
 * Parses `250`, `250ms`, `30s` or `2m` as milliseconds; anything else is kept as text for the error.
 *
 * @example
 * ```ts
 * msArg("30s"); // 30000
 * ```
 */
export function msArg(text: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(text.trim());
  if (m === null) return text as unknown as number;
  const factor = m[2] === "s" ? 1_000 : m[2] === "m" ? 60_000 : 1;
  return Number(m[1]) * factor;
}

interface SuperviseFlags {
  min?: number;
  max?: number;
  database: string;
  queue?: string[];
  statusFile?: string;
  startTimeout?: number;
  hangTimeout?: number;
  stallTimeout?: number;
  killTimeout?: number;
  heartbeat?: number;
  scaleInterval?: number;
  scaleDownCooldown?: number;
  jobsPerWorker?: number;
  maxRestarts?: number;
  restartPeriod?: number;
  spare: boolean;
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
    .argument("<program>", "the program (a script that calls app.main())")
    .argument("[args...]", "arguments passed to the program")
    .option("--min <n>", "fewest workers (default 1)", numberArg)
    .option("--max <n>", "most workers (default: min)", numberArg)
    .addOption(databaseOption())
    .option("-q, --queue <name...>", "queues whose backlog drives scaling (default: all)")
    .option("--status-file <path>", "status file for `tend status` (default ./var/tend-supervisor.json)")
    .option("--start-timeout <ms>", "a worker not ready within this is killed (default 30s)", msArg)
    .option("--hang-timeout <ms>", "a worker without heartbeat this long is killed (default 10s)", msArg)
    .option(
      "--stall-timeout <ms>",
      "a worker with jobs in flight and no completion this long is killed (default 5m)",
      msArg,
    )
    .option(
      "--kill-timeout <ms>",
      "graceful stop budget before SIGTERM/SIGKILL to a worker's group (default 30s)",
      msArg,
    )
    .option("--heartbeat <ms>", "worker heartbeat interval (default 1s)", msArg)
    .option("--scale-interval <ms>", "how often queue statistics are read (default 1s)", msArg)
    .option("--scale-down-cooldown <ms>", "idle time before each worker removed (default 60s)", msArg)
    .option("--jobs-per-worker <n>", "backlog that justifies one worker (default 10)", numberArg)
    .option("--max-restarts <n>", "restart intensity: at most this many restarts... (default 5)", numberArg)
    .option("--no-spare", "do not keep a pre-booted spare process (replacements then start cold)")
    .option("--restart-period <ms>", "...within this window, else give up and exit 1 (default 60s)", msArg)
    .action(async (programPath: string, args: string[], flags: SuperviseFlags) => {
      const scaling = {
        ...(flags.scaleDownCooldown === undefined ? {} : { scaleDownCooldownMs: flags.scaleDownCooldown }),
        ...(flags.jobsPerWorker === undefined ? {} : { jobsPerWorker: flags.jobsPerWorker }),
      };
      const restart = {
        ...(flags.maxRestarts === undefined ? {} : { maxRestarts: flags.maxRestarts }),
        ...(flags.restartPeriod === undefined ? {} : { periodMs: flags.restartPeriod }),
      };
      await supervise({
        program: programPath,
        args,
        database: flags.database,
        scaling,
        restart,
        spare: flags.spare,
        ...(flags.min === undefined ? {} : { min: flags.min }),
        ...(flags.max === undefined ? {} : { max: flags.max }),
        ...(flags.queue === undefined ? {} : { queues: flags.queue }),
        ...(flags.statusFile === undefined ? {} : { statusFile: flags.statusFile }),
        ...(flags.startTimeout === undefined ? {} : { startTimeoutMs: flags.startTimeout }),
        ...(flags.hangTimeout === undefined ? {} : { hangTimeoutMs: flags.hangTimeout }),
        ...(flags.stallTimeout === undefined ? {} : { stallTimeoutMs: flags.stallTimeout }),
        ...(flags.killTimeout === undefined ? {} : { killTimeoutMs: flags.killTimeout }),
        ...(flags.heartbeat === undefined ? {} : { heartbeatMs: flags.heartbeat }),
        ...(flags.scaleInterval === undefined ? {} : { scaleIntervalMs: flags.scaleInterval }),
      });
    });
}
