import { statSync } from "node:fs";
import { resolve } from "node:path";
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkLogger,
  checkNumber,
  checkObject,
  checkOneOf,
  checkPositiveNumber,
  checkString,
  invalidArgument,
  isArrayValue,
  optionKeys,
  rejectUnknownKeys,
} from "../errors/index.ts";
import { type Duration, type DurationLimits, parseDuration } from "../lifecycle/index.ts";
import type { Logger } from "../log/index.ts";
import type { Store } from "../store/index.ts";
import { DEFAULT_SCALING, type ScalingSettings } from "./policy.ts";
import type { SupervisorErrorHook } from "./crash-hook.ts";
import { DEFAULT_RESTART, type RestartSettings } from "./restart.ts";

/** Options of {@link createSupervisor} and `supervise()`. */
export interface SuperviseOptions {
  /** Path of the user's program (a script that calls `app.main()`). */
  program: string;
  /** Arguments passed to the program. */
  args?: readonly string[];
  /** Fewest workers (default 1). */
  min?: number;
  /** Most workers (default: min, or 1). */
  max?: number;
  /** Store to read queue statistics from and rescue jobs through. */
  store?: Store;
  /** Store URL (used when `store` is not given); also passed to workers as TEND_DATABASE_URL. */
  database?: string;
  /** Queues whose statistics drive scaling (default: all). */
  queues?: readonly string[];
  /** Status file written on every change and every `statusInterval` (default ./var/tend-supervisor.json; null: none). */
  statusFile?: string | null;
  /** Extra environment for workers (added to the master's own). */
  env?: Readonly<Record<string, string>>;
  /** Node options for workers (default none; Node 24 runs .ts programs as they are). */
  execArgv?: readonly string[];
  /**
   * Folder for Node's compile cache shared by the workers (NODE_COMPILE_CACHE), which cuts a
   * replacement worker's start time by more than half. Default ./var/tend-compile-cache; false: off
   * (also off when the environment already sets NODE_COMPILE_CACHE).
   */
  compileCache?: string | false;
  /**
   * Keep one spare process booted in advance, so that a replacement or an added worker only has
   * to load the program (default true). The program then runs loaded by tend's launcher, where
   * `import.meta.main` is false: call `app.main()` unconditionally.
   */
  spare?: boolean;
  /** Worker stdio: "inherit" (default) or "ignore". */
  stdio?: "inherit" | "ignore";
  /** A worker not ready within this is killed and counted as a failed start (default `"30s"`). */
  startTimeout?: Duration;
  /** A ready worker with no heartbeat for this long is killed (SIGKILL) and replaced (default `"10s"`). */
  hangTimeout?: Duration;
  /** A worker with jobs in flight and no completion for this long is killed and replaced (default `"5m"`). */
  stallTimeout?: Duration;
  /**
   * A stopping worker gets this long to finish before SIGTERM to its process group (default
   * `"30s"`); the only limit on a worker being stopped (the hang and stall timeouts do not apply).
   */
  killTimeout?: Duration;
  /** After SIGTERM, this long before SIGKILL to the process group (default `"5s"`). */
  termGrace?: Duration;
  /** Worker heartbeat interval (default `"1s"`). */
  heartbeat?: Duration;
  /** An orphaned worker drains at most this long, then exits anyway (default `"2s"`). */
  orphanGrace?: Duration;
  /** How often queue statistics are read and the count decided (default `"1s"`). */
  scaleInterval?: Duration;
  /** How often the status file is rewritten even without a change (default `"2s"`). */
  statusInterval?: Duration;
  /**
   * PostgreSQL: the lease of this master's row in the fleet table, renewed at every scale
   * interval (default `"10s"`). Masters sharing one database divide the worker count between the
   * live ones; one silent this long counts as dead and the others take over its share.
   */
  masterLease?: Duration;
  /** Scaling policy settings. */
  scaling?: ScalingOptions;
  /** Restart backoff and intensity. */
  restart?: RestartOptions;
  /** Logger (the master logs through `part: "supervise"`; the store it opens from `database`, `part: "store"`). */
  log?: Logger;
  /**
   * Called when a worker process dies unexpectedly (crashed, killed by a signal, or killed by
   * the master as hung), with `{ part: "supervise", event: "worker.crashed", workerId, pid,
   * exitCode, signal, uptimeMs, problem }`: the place to send it to an error service. A hook
   * that throws or rejects is logged and never breaks the master.
   */
  onError?: SupervisorErrorHook;
}

/** Scaling policy options of {@link SuperviseOptions} (see {@link ScalingSettings} for their meaning). */
export interface ScalingOptions {
  /** Runnable-or-running jobs that justify one worker (about a worker's job concurrency; default 10). */
  jobsPerWorker?: number;
  /** Net inflow (enqueue rate minus completion rate) to provision for, this far ahead (default `"10s"`). */
  horizon?: Duration;
  /** If the oldest runnable job waited longer than this, add a worker even when the count looks enough (default `"10s"`). */
  maxWait?: Duration;
  /** Demand must stay below the current count this long before one worker is removed; also the gap between removals (default `"60s"`). */
  scaleDownCooldown?: Duration;
}

/** Restart options of {@link SuperviseOptions}: backoff of replacements and the restart intensity. */
export interface RestartOptions {
  /** Delay before the second consecutive restart; doubles with each further one (default `"100ms"`). */
  backoffBase?: Duration;
  /** Upper bound of the delay (default `"30s"`). */
  backoffMax?: Duration;
  /** Fraction of the delay that is random, 0..1 (default 0.5). */
  jitter?: number;
  /** A worker that ran this long before it died resets the consecutive-failure count (default `"30s"`). */
  stableUptime?: Duration;
  /** At most this many restarts... (OTP's MaxR; default 5). */
  maxRestarts?: number;
  /** ...within this window (OTP's MaxT; default `"60s"`). */
  period?: Duration;
}

/** Options after validation, with defaults filled in (durations in ms). */
export interface ResolvedOptions {
  program: string;
  args: readonly string[];
  min: number;
  max: number;
  store: Store | undefined;
  database: string | undefined;
  queues: readonly string[];
  statusFile: string | null;
  env: Readonly<Record<string, string>>;
  execArgv: readonly string[];
  compileCache: string | null;
  spare: boolean;
  stdio: "inherit" | "ignore";
  startTimeoutMs: number;
  hangTimeoutMs: number;
  stallTimeoutMs: number;
  killTimeoutMs: number;
  termGraceMs: number;
  heartbeatMs: number;
  orphanGraceMs: number;
  scaleIntervalMs: number;
  statusIntervalMs: number;
  masterLeaseMs: number;
  scaling: ScalingSettings;
  restart: RestartSettings;
  onError: SupervisorErrorHook | undefined;
}

/** Default compile cache folder of the workers (relative to the working directory). */
export const DEFAULT_COMPILE_CACHE = "./var/tend-compile-cache";

/** Default status file path (relative to the working directory). */
export const DEFAULT_STATUS_FILE = "./var/tend-supervisor.json";

function count(name: string, value: unknown, fallback: number, least: number): number {
  return value === undefined ? fallback : checkInteger("TEND_E_SUPERVISE_INVALID_COUNT", name, value, least);
}

/** The keys the supervisor's options accept. */
export const SUPERVISE_KEYS = optionKeys<SuperviseOptions>({
  program: true,
  args: true,
  min: true,
  max: true,
  store: true,
  database: true,
  queues: true,
  statusFile: true,
  env: true,
  execArgv: true,
  compileCache: true,
  spare: true,
  stdio: true,
  startTimeout: true,
  hangTimeout: true,
  stallTimeout: true,
  killTimeout: true,
  termGrace: true,
  heartbeat: true,
  orphanGrace: true,
  scaleInterval: true,
  statusInterval: true,
  masterLease: true,
  scaling: true,
  restart: true,
  log: true,
  onError: true,
});
const SCALING_KEYS = optionKeys<ScalingOptions>({
  jobsPerWorker: true,
  horizon: true,
  maxWait: true,
  scaleDownCooldown: true,
});
const RESTART_KEYS = optionKeys<RestartOptions>({
  backoffBase: true,
  backoffMax: true,
  jitter: true,
  stableUptime: true,
  maxRestarts: true,
  period: true,
});

/**
 * A list of strings (`args`, `execArgv`), copied. A string alone is refused rather than spread
 * into its characters.
 */
function stringList(name: string, value: unknown, example: string): string[] {
  if (value === undefined) return [];
  if (!isArrayValue(value)) {
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      name,
      value,
      `an array of strings, one item per argument (e.g. ${example})`,
    );
  }
  const list: readonly unknown[] = value;
  list.forEach((item, i) => {
    if (typeof item !== "string") {
      throw invalidArgument(
        "TEND_E_SUPERVISE_INVALID_OPTION",
        `${name}[${i}]`,
        item,
        `a string: ${name} is an array of strings, one item per argument (e.g. ${example})`,
      );
    }
  });
  return [...list] as string[];
}

/** The workers' extra environment: an object whose every value is a string, copied. */
function environment(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const env = checkObject(
    "TEND_E_SUPERVISE_INVALID_OPTION",
    "env",
    value,
    'an object of environment variables with string values (e.g. { LOG_LEVEL: "debug" })',
  );
  for (const [key, v] of Object.entries(env)) {
    if (typeof v === "string") continue;
    const hint =
      typeof v === "number" || typeof v === "boolean" || typeof v === "bigint"
        ? `write ${JSON.stringify(String(v))}`
        : "leave the variable out to not set it";
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      `env.${key}`,
      v,
      `a string (environment values are text: ${hint})`,
    );
  }
  return { ...(env as Record<string, string>) };
}

/** A supervisor duration: positive, at most a day. */
function ms(name: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : parseDuration(value, name, SUPERVISE_DURATION);
}

const SUPERVISE_DURATION: DurationLimits = {
  code: "TEND_E_SUPERVISE_INVALID_TIMEOUT",
  positive: true,
  max: 86_400_000,
};

/**
 * Validates supervisor options and fills in defaults; throws a TendError naming the bad value.
 *
 * @example
 * ```ts
 * const o = resolveOptions({ program: "./app.ts", min: 1, max: 8 });
 * ```
 */
export function resolveOptions(options: SuperviseOptions): ResolvedOptions {
  checkObject("TEND_E_SUPERVISE_INVALID_OPTION", "options", options, "an object with at least { program }");
  rejectUnknownKeys("supervisor options", options, SUPERVISE_KEYS, "TEND_E_SUPERVISE_INVALID_OPTION");
  if (options.log !== undefined) checkLogger("TEND_E_SUPERVISE_INVALID_OPTION", "log", options.log);
  if (options.store !== undefined)
    checkObject(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      "store",
      options.store,
      "a store from openStore() (or nothing)",
    );
  if (options.scaling !== undefined)
    checkObject(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      "scaling",
      options.scaling,
      "an object { jobsPerWorker?, horizon?, ... } (or nothing)",
    );
  if (options.restart !== undefined)
    checkObject(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      "restart",
      options.restart,
      "an object { backoffBase?, backoffMax?, jitter?, ... } (or nothing)",
    );
  rejectUnknownKeys(
    "supervisor scaling options",
    options.scaling,
    SCALING_KEYS,
    "TEND_E_SUPERVISE_INVALID_OPTION",
  );
  rejectUnknownKeys(
    "supervisor restart options",
    options.restart,
    RESTART_KEYS,
    "TEND_E_SUPERVISE_INVALID_OPTION",
  );
  if (typeof options.program !== "string" || options.program.length === 0) {
    throw invalidArgument(
      "TEND_E_SUPERVISE_PROGRAM_NOT_FOUND",
      "program",
      options.program,
      "the path of a program file",
    );
  }
  const program = resolve(options.program);
  let isFile = false;
  try {
    isFile = statSync(program).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) {
    throw invalidArgument(
      "TEND_E_SUPERVISE_PROGRAM_NOT_FOUND",
      "program",
      options.program,
      "an existing program file",
    );
  }
  const min = count("min", options.min, 1, 0);
  const max = count("max", options.max, Math.max(1, min), 1);
  if (min > max) {
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_COUNT",
      "min",
      min,
      `a count no greater than max (${max})`,
    );
  }
  if (
    options.queues !== undefined &&
    (!isArrayValue(options.queues) || !options.queues.every((q) => typeof q === "string" && q !== ""))
  ) {
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      "queues",
      options.queues,
      "a list of queue names",
    );
  }
  if (
    options.statusFile !== undefined &&
    options.statusFile !== null &&
    (typeof options.statusFile !== "string" || options.statusFile === "")
  ) {
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      "statusFile",
      options.statusFile,
      "a file path or null",
    );
  }
  if (
    options.compileCache !== undefined &&
    options.compileCache !== false &&
    (typeof options.compileCache !== "string" || options.compileCache === "")
  ) {
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      "compileCache",
      options.compileCache,
      "a folder path or false",
    );
  }
  if (options.spare !== undefined) checkBoolean("TEND_E_SUPERVISE_INVALID_OPTION", "spare", options.spare);
  if (options.onError !== undefined)
    checkFunction(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      "onError",
      options.onError,
      "a function (error, context) => void",
    );
  if (options.database !== undefined)
    checkString("TEND_E_SUPERVISE_INVALID_OPTION", "database", options.database, "a store URL");
  const args = stringList("args", options.args, '["--verbose"]');
  const execArgv = stringList("execArgv", options.execArgv, '["--max-old-space-size=512"]');
  const env = environment(options.env);
  const s = options.scaling ?? {};
  const r = options.restart ?? {};
  const restart: RestartSettings = {
    backoffBaseMs: ms("restart.backoffBase", r.backoffBase, DEFAULT_RESTART.backoffBaseMs),
    backoffMaxMs: ms("restart.backoffMax", r.backoffMax, DEFAULT_RESTART.backoffMaxMs),
    jitter:
      r.jitter === undefined
        ? DEFAULT_RESTART.jitter
        : checkNumber("TEND_E_SUPERVISE_INVALID_OPTION", "restart.jitter", r.jitter, 0, 1),
    stableUptimeMs: ms("restart.stableUptime", r.stableUptime, DEFAULT_RESTART.stableUptimeMs),
    maxRestarts:
      r.maxRestarts === undefined
        ? DEFAULT_RESTART.maxRestarts
        : checkInteger("TEND_E_SUPERVISE_INVALID_OPTION", "restart.maxRestarts", r.maxRestarts, 0),
    periodMs: ms("restart.period", r.period, DEFAULT_RESTART.periodMs),
  };
  if (restart.backoffBaseMs > restart.backoffMaxMs)
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      "restart.backoffBase",
      r.backoffBase,
      `at most restart.backoffMax (${restart.backoffMaxMs} ms): the first restart delay cannot exceed the longest`,
    );
  const scaling: ScalingSettings = {
    jobsPerWorker:
      s.jobsPerWorker === undefined
        ? DEFAULT_SCALING.jobsPerWorker
        : checkPositiveNumber("TEND_E_SUPERVISE_INVALID_OPTION", "scaling.jobsPerWorker", s.jobsPerWorker),
    horizonSec:
      s.horizon === undefined
        ? DEFAULT_SCALING.horizonSec
        : parseDuration(s.horizon, "scaling.horizon", {
            code: "TEND_E_SUPERVISE_INVALID_OPTION",
            max: 86_400_000,
          }) / 1000,
    maxWaitMs: ms("scaling.maxWait", s.maxWait, DEFAULT_SCALING.maxWaitMs),
    scaleDownCooldownMs: ms(
      "scaling.scaleDownCooldown",
      s.scaleDownCooldown,
      DEFAULT_SCALING.scaleDownCooldownMs,
    ),
  };
  const heartbeatMs = ms("heartbeat", options.heartbeat, 1_000);
  const hangTimeoutMs = ms("hangTimeout", options.hangTimeout, 10_000);
  if (hangTimeoutMs <= heartbeatMs) {
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_TIMEOUT",
      "hangTimeout",
      options.hangTimeout,
      `more than heartbeat (${heartbeatMs} ms)`,
    );
  }
  return {
    program,
    args,
    min,
    max,
    store: options.store,
    database: options.database,
    queues: [...(options.queues ?? [])],
    statusFile: options.statusFile === null ? null : resolve(options.statusFile ?? DEFAULT_STATUS_FILE),
    env,
    execArgv,
    compileCache:
      options.compileCache === false ? null : resolve(options.compileCache ?? DEFAULT_COMPILE_CACHE),
    spare: options.spare ?? true,
    stdio:
      options.stdio === undefined
        ? "inherit"
        : checkOneOf("TEND_E_SUPERVISE_INVALID_OPTION", "stdio", options.stdio, ["inherit", "ignore"]),
    startTimeoutMs: ms("startTimeout", options.startTimeout, 30_000),
    hangTimeoutMs,
    stallTimeoutMs: ms("stallTimeout", options.stallTimeout, 300_000),
    killTimeoutMs: ms("killTimeout", options.killTimeout, 30_000),
    termGraceMs: ms("termGrace", options.termGrace, 5_000),
    heartbeatMs,
    orphanGraceMs: ms("orphanGrace", options.orphanGrace, 2_000),
    scaleIntervalMs: ms("scaleInterval", options.scaleInterval, 1_000),
    statusIntervalMs: ms("statusInterval", options.statusInterval, 2_000),
    masterLeaseMs: ms("masterLease", options.masterLease, 10_000),
    scaling,
    restart,
    onError: options.onError,
  };
}
