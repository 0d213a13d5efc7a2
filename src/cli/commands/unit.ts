import { isSea } from "node:sea";
import { resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { invalidArgument } from "../../errors/index.ts";
import { type Duration, durationFromText, parseDuration } from "../../lifecycle/index.ts";
import { renderSystemdUnit } from "../../supervise/index.ts";
import { numberArg } from "./supervise.ts";

/** Quotes one ExecStart word for systemd when it holds spaces or quotes. */
function word(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `"${text.replace(/(["\\])/g, "\\$1")}"`;
}

/** How the unit starts the service: an executable made by `tend build`, or Node running a script. */
export type Runner = { exec: string } | { node: string; program: string; tend: string };

/**
 * Pure: the command line of the unit's ExecStart. An executable runs `tend supervise` from
 * itself (`<exec> tend supervise ...`) or, with `supervise: false`, runs its program directly;
 * Node runs tend's CLI script with `supervise <program>`, or the program directly.
 *
 * @example
 * ```ts
 * execStartArgv({ exec: "/srv/app/app" }, ["--min", "1"], true); // ["/srv/app/app", "tend", "supervise", "--min", "1"]
 * ```
 */
export function execStartArgv(
  runner: Runner,
  superviseArgs: readonly string[],
  supervise: boolean,
): string[] {
  if ("exec" in runner)
    return supervise ? [runner.exec, "tend", "supervise", ...superviseArgs] : [runner.exec];
  return supervise
    ? [runner.node, runner.tend, "supervise", runner.program, ...superviseArgs]
    : [runner.node, runner.program];
}

/** Pure: true for a path inside a node_modules folder (a Node binary there is gone after `npm ci --omit=dev`). */
export function insideNodeModules(path: string): boolean {
  return path.split(sep).includes("node_modules");
}

/** Pure: true when a database URL carries a password (it belongs in the environment file). */
export function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== "";
  } catch {
    return false;
  }
}

interface UnitFlags {
  exec?: string;
  node?: string;
  supervise: boolean;
  environmentFile?: string[];
  min?: number;
  max?: number;
  database?: string;
  user?: string;
  description?: string;
  workingDirectory?: string;
  killTimeout?: Duration;
  statusFile?: string;
}

const CODE = "TEND_E_SUPERVISE_INVALID_OPTION";

/**
 * `tend unit [program]`: prints a systemd unit (see docs/deploy.md) that runs an executable made
 * by `tend build` (`--exec`; inside such an executable, itself by default) or a script with an
 * explicit Node (`--node`), under `tend supervise` unless `--no-supervise`. Secrets come from an
 * `EnvironmentFile=` that tend never writes.
 *
 * @example
 * ```sh
 * tend unit --exec /srv/app/app --environment-file /etc/app/env --min 1 --max 8 --user app > /etc/systemd/system/app.service
 * ```
 */
export function register(program: Command): void {
  program
    .command("unit")
    .description(
      "print a systemd unit that runs an executable made by `tend build` (or a script with --node)",
    )
    .argument("[program]", "a script to run with --node (not needed with --exec or inside an executable)")
    .option("--exec <file>", "the executable made by `tend build`, as installed on the host")
    .option(
      "--node <path>",
      "run [program] with this Node binary (e.g. /usr/bin/node; never one inside node_modules)",
    )
    .option("--no-supervise", "run the program itself, not `tend supervise` (one process)")
    .option(
      "--environment-file <path...>",
      "EnvironmentFile= with secrets (TEND_DATABASE_URL=postgres://user:password@...); tend never writes it",
    )
    .option("--min <n>", "fewest workers", numberArg)
    .option("--max <n>", "most workers", numberArg)
    .option(
      "-d, --database <url>",
      "database URL without a password (written as Environment=TEND_DATABASE_URL=...)",
    )
    .option("--user <name>", "run as this user")
    .option("--description <text>", "unit description")
    .option("--working-directory <dir>", "service working directory (default: the current one)")
    .option(
      "--kill-timeout <duration>",
      "the supervisor's kill timeout (default 30s); sets TimeoutStopSec",
      durationFromText,
    )
    .option("--status-file <path>", "status file of the supervisor")
    .action((programPath: string | undefined, flags: UnitFlags) => {
      const cwd = resolve(flags.workingDirectory ?? process.cwd());
      const killTimeout = parseDuration(flags.killTimeout ?? "30s", "--kill-timeout", {
        code: "TEND_E_SUPERVISE_INVALID_TIMEOUT",
        positive: true,
        max: 86_400_000,
      });
      let runner: Runner;
      if (flags.exec !== undefined) {
        if (flags.node !== undefined || programPath !== undefined) {
          throw invalidArgument(
            CODE,
            "--exec",
            flags.exec,
            "either --exec <file>, or [program] with --node, not both",
          );
        }
        runner = { exec: resolve(cwd, flags.exec) };
      } else if (programPath !== undefined) {
        if (flags.node === undefined) {
          throw invalidArgument(
            CODE,
            "--node",
            undefined,
            "the Node binary to run the program with (e.g. --node /usr/bin/node), or an executable: tend build <program> -o <file>, then tend unit --exec <file>",
          );
        }
        const node = resolve(cwd, flags.node);
        if (insideNodeModules(node)) {
          throw invalidArgument(
            CODE,
            "--node",
            flags.node,
            "a Node outside node_modules (e.g. /usr/bin/node)",
          );
        }
        const tend = fileURLToPath(new URL("../../../bin/tend.js", import.meta.url));
        runner = { node, program: resolve(cwd, programPath), tend };
      } else if (isSea()) {
        runner = { exec: process.execPath };
      } else {
        throw invalidArgument(
          CODE,
          "program",
          undefined,
          "--exec <file> (made by tend build), or [program] with --node",
        );
      }
      if (flags.database !== undefined && hasPassword(flags.database)) {
        throw invalidArgument(
          CODE,
          "--database",
          "(a URL with a password)",
          "a URL without a password: put TEND_DATABASE_URL with the password in the --environment-file, readable by root only",
        );
      }
      const args: string[] = [];
      if (flags.min !== undefined) args.push("--min", String(flags.min));
      if (flags.max !== undefined) args.push("--max", String(flags.max));
      args.push("--kill-timeout", String(Math.ceil(killTimeout)));
      if (flags.statusFile !== undefined) args.push("--status-file", resolve(cwd, flags.statusFile));
      const text = renderSystemdUnit({
        workingDirectory: cwd,
        execStart: execStartArgv(runner, args, flags.supervise).map(word).join(" "),
        stopBudget: killTimeout + 5_000,
        environmentFiles: (flags.environmentFile ?? []).map((f) => resolve(cwd, f)),
        ...(flags.user === undefined ? {} : { user: flags.user }),
        ...(flags.description === undefined ? {} : { description: flags.description }),
        ...(flags.database === undefined ? {} : { environment: { TEND_DATABASE_URL: flags.database } }),
      });
      process.stdout.write(text);
    });
}
