import type { Logger, LoggerOptions } from "pino";
import {
  checkBoolean,
  checkObject,
  checkOneOf,
  checkString,
  optionKeys,
  rejectUnknownKeys,
} from "../errors/index.ts";
import { pinoModule } from "./pino-module.ts";

const { pino } = pinoModule;

export type { Logger } from "pino";

/** Options for {@link createLogger}. */
export interface LoggerSettings {
  /** pino level; default: `TEND_LOG_LEVEL`, else `silent` under `node --test`, else `info`. */
  level?: string;
  /** Human-readable output; default: true when stdout is a terminal (and `TEND_LOG_PRETTY` is not `0`). */
  pretty?: boolean;
  /** Logger name, shown on every line. Default `tend`. */
  name?: string;
  /**
   * Where lines go (default `"stdout"`). Command-line tools that print results on stdout log to
   * `"stderr"`, so that their output stays parseable (`tend jobs list --json | jq`).
   */
  destination?: "stdout" | "stderr";
}

const SETTINGS_KEYS = optionKeys<LoggerSettings>({
  level: true,
  pretty: true,
  name: true,
  destination: true,
});

/** pino's levels, most to least severe, and `silent`. */
const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const CODE = "TEND_E_INVALID_LOG_OPTIONS";

/** Reads an environment variable (a function, so the key is not a literal index). */
function env(name: string): string | undefined {
  return process.env[name];
}

function defaultLevel(): string {
  const fromEnv = env("TEND_LOG_LEVEL");
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  // node --test sets NODE_TEST_CONTEXT in the processes it runs: keep the suite quiet.
  if (env("NODE_TEST_CONTEXT") !== undefined) return "silent";
  return "info";
}

function defaultPretty(destination: "stdout" | "stderr"): boolean {
  const fromEnv = env("TEND_LOG_PRETTY");
  if (fromEnv === "0") return false;
  if (fromEnv === "1") return true;
  return process[destination].isTTY === true;
}

/**
 * Creates the process logger: JSON lines on stdout (or stderr, see `destination`) for machines,
 * colourised lines when a person runs the program in a terminal. Writes go through pino's fast asynchronous destination; call
 * `logger.flush()` (done by `main()`) before exiting.
 *
 * @example
 * ```ts
 * const log = createLogger({ name: "billing" });
 * log.info({ accountId: 42 }, "invoice sent");
 * ```
 */
export function createLogger(settings: LoggerSettings = {}): Logger {
  checkObject(
    CODE,
    "logger settings",
    settings,
    "an options object { level?, pretty?, name?, destination? }",
  );
  rejectUnknownKeys("createLogger settings", settings, SETTINGS_KEYS, CODE);
  const level =
    settings.level === undefined
      ? checkOneOf(CODE, "TEND_LOG_LEVEL", defaultLevel(), LEVELS)
      : checkOneOf(CODE, "level", settings.level, LEVELS);
  if (settings.name !== undefined) checkString(CODE, "name", settings.name);
  if (settings.pretty !== undefined) checkBoolean(CODE, "pretty", settings.pretty);
  if (settings.destination !== undefined)
    checkOneOf(CODE, "destination", settings.destination, ["stdout", "stderr"] as const);
  const options: LoggerOptions = {
    name: settings.name ?? "tend",
    level,
    base: { pid: process.pid },
    // Errors keep their own message; causes and aggregated `errors` are logged as structured fields.
    serializers: { err: pino.stdSerializers.errWithCause },
  };
  const destination = settings.destination ?? "stdout";
  const fd = destination === "stderr" ? 2 : 1;
  const pretty = (settings.pretty ?? defaultPretty(destination)) ? loadPretty() : null;
  if (pretty !== null) {
    return pino(
      options,
      pretty({
        sync: true,
        colorize: true,
        singleLine: true,
        ignore: "pid,hostname",
        translateTime: "SYS:HH:MM:ss.l",
        destination: fd,
      }),
    );
  }
  return pino(options, pino.destination({ dest: fd, sync: false, minLength: 0 }));
}

type PrettyFactory = (opts: Record<string, unknown>) => NodeJS.WritableStream;

/**
 * pino-pretty, loaded on first use so that production processes never pay for it; null where it
 * cannot be loaded (an executable made by `tend build` does not hold it): lines are then JSON.
 */
function loadPretty(): PrettyFactory | null {
  try {
    return createRequireOnce()("pino-pretty") as PrettyFactory;
  } catch {
    return null;
  }
}

let requireFn: NodeJS.Require | undefined;
function createRequireOnce(): NodeJS.Require {
  if (requireFn === undefined) {
    // A synchronous require keeps createLogger synchronous.
    requireFn = process.getBuiltinModule("node:module").createRequire(import.meta.url);
  }
  return requireFn;
}
