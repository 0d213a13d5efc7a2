import {
  checkInteger,
  checkObject,
  invalidArgument,
  optionKeys,
  rejectUnknownKeys,
} from "../errors/index.ts";
import { type Duration, parseDuration } from "../lifecycle/index.ts";

/** Options of {@link renderSystemdUnit}. */
export interface UnitOptions {
  /** Service description. */
  description?: string;
  /** Absolute working directory of the service. */
  workingDirectory: string;
  /** The full command line of the master, e.g. `/usr/bin/node /srv/app/node_modules/.bin/tend supervise app.ts --min 1 --max 8`. */
  execStart: string;
  /** Run as this user (recommended). */
  user?: string;
  /** Environment lines (KEY=value): settings only, never secrets (the unit file is world-readable). */
  environment?: Readonly<Record<string, string>>;
  /**
   * Absolute paths of environment files (`EnvironmentFile=`), where secrets such as a database
   * URL with its password live, readable by root only; tend never writes them.
   */
  environmentFiles?: readonly string[];
  /** The supervisor's kill timeout plus SIGTERM grace: the stop budget for a worker (default `"35s"`). */
  stopBudget?: Duration;
  /** Restart limits of systemd itself: at most `startLimitBurst` starts (default 5)... */
  startLimitBurst?: number;
  /** ...within `startLimitInterval` (default `"5m"`; written in whole seconds). */
  startLimitInterval?: Duration;
}

const KEYS = optionKeys<UnitOptions>({
  description: true,
  workingDirectory: true,
  execStart: true,
  user: true,
  environment: true,
  environmentFiles: true,
  stopBudget: true,
  startLimitBurst: true,
  startLimitInterval: true,
});

function quoteEnv(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]*$/.test(value) ? value : `"${value.replace(/(["\\])/g, "\\$1")}"`;
}

/**
 * Renders a systemd unit for the supervisor master: restarted on failure (the master exits
 * non-zero when it gives up), `KillMode=mixed` so that systemd sends SIGTERM to the master alone
 * and lets it drain its workers (then SIGKILLs whatever is left), and a TimeoutStopSec that covers
 * the shutdown budget.
 *
 * @example
 * ```ts
 * process.stdout.write(renderSystemdUnit({ workingDirectory: "/srv/app", execStart: "/usr/bin/node tend supervise app.ts" }));
 * ```
 */
export function renderSystemdUnit(options: UnitOptions): string {
  checkObject("TEND_E_SUPERVISE_INVALID_OPTION", "unit options", options);
  rejectUnknownKeys("systemd unit options", options, KEYS);
  if (typeof options.workingDirectory !== "string" || !options.workingDirectory.startsWith("/")) {
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      "workingDirectory",
      options.workingDirectory,
      "an absolute path",
    );
  }
  if (
    typeof options.execStart !== "string" ||
    options.execStart.trim() === "" ||
    /[\r\n]/.test(options.execStart)
  ) {
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_OPTION",
      "execStart",
      options.execStart,
      "one command line",
    );
  }
  const code = "TEND_E_SUPERVISE_INVALID_TIMEOUT";
  const budgetMs = parseDuration(options.stopBudget ?? "35s", "stopBudget", { code, positive: true });
  const timeoutStopSec = Math.ceil(budgetMs / 1000) + 15;
  const intervalMs = parseDuration(options.startLimitInterval ?? "5m", "startLimitInterval", {
    code,
    positive: true,
  });
  const burst =
    options.startLimitBurst === undefined
      ? 5
      : checkInteger("TEND_E_SUPERVISE_INVALID_OPTION", "startLimitBurst", options.startLimitBurst, 1);
  const lines = [
    "[Unit]",
    `Description=${options.description ?? "tend supervisor"}`,
    "After=network-online.target postgresql.service",
    "Wants=network-online.target",
    `StartLimitIntervalSec=${Math.ceil(intervalMs / 1000)}`,
    `StartLimitBurst=${burst}`,
    "",
    "[Service]",
    "Type=simple",
    `WorkingDirectory=${options.workingDirectory}`,
    `ExecStart=${options.execStart}`,
    "ExecReload=/bin/kill -HUP $MAINPID",
  ];
  if (options.user !== undefined) lines.push(`User=${options.user}`);
  for (const [key, value] of Object.entries(options.environment ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw invalidArgument("TEND_E_SUPERVISE_INVALID_OPTION", "environment key", key, "a variable name");
    }
    lines.push(`Environment=${key}=${quoteEnv(value)}`);
  }
  for (const file of options.environmentFiles ?? []) {
    if (typeof file !== "string" || !file.startsWith("/") || /[\r\n]/.test(file)) {
      throw invalidArgument("TEND_E_SUPERVISE_INVALID_OPTION", "environment file", file, "an absolute path");
    }
    lines.push(`EnvironmentFile=${file}`);
  }
  lines.push(
    "Restart=on-failure",
    "RestartSec=5",
    "KillMode=mixed",
    "KillSignal=SIGTERM",
    `TimeoutStopSec=${timeoutStopSec}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  );
  return lines.join("\n");
}
