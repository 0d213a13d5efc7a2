import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { type Duration, durationFromText, parseDuration } from "../../lifecycle/index.ts";
import { renderSystemdUnit } from "../../supervise/index.ts";
import { numberArg } from "./supervise.ts";

/** Quotes one ExecStart word for systemd when it holds spaces or quotes. */
function word(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `"${text.replace(/(["\\])/g, "\\$1")}"`;
}

interface UnitFlags {
  min?: number;
  max?: number;
  database?: string;
  user?: string;
  description?: string;
  workingDirectory?: string;
  node?: string;
  killTimeout?: Duration;
  statusFile?: string;
}

/**
 * `tend unit <program>`: prints a systemd unit that runs `tend supervise` (see docs/deploy.md).
 *
 * @example
 * ```sh
 * tend unit app.ts --min 1 --max 8 --user app > /etc/systemd/system/app-workers.service
 * ```
 */
export function register(program: Command): void {
  program
    .command("unit")
    .description(
      "print a systemd unit that runs `tend supervise <program>` (restart on failure, graceful stop)",
    )
    .argument("<program>", "the program to supervise")
    .option("--min <n>", "fewest workers", numberArg)
    .option("--max <n>", "most workers", numberArg)
    .option("-d, --database <url>", "database URL (written as Environment=TEND_DATABASE_URL=...)")
    .option("--user <name>", "run as this user")
    .option("--description <text>", "unit description")
    .option("--working-directory <dir>", "service working directory (default: the current one)")
    .option("--node <path>", "node executable (default: the one running this command)")
    .option(
      "--kill-timeout <duration>",
      "the supervisor's kill timeout (default 30s); sets TimeoutStopSec",
      durationFromText,
    )
    .option("--status-file <path>", "status file of the supervisor")
    .action((programPath: string, flags: UnitFlags) => {
      const cwd = resolve(flags.workingDirectory ?? process.cwd());
      const killTimeout = parseDuration(flags.killTimeout ?? "30s", "--kill-timeout", {
        code: "TEND_E_SUPERVISE_INVALID_TIMEOUT",
        positive: true,
        max: 86_400_000,
      });
      const tend = fileURLToPath(new URL("../../../bin/tend.js", import.meta.url));
      const argv = [flags.node ?? process.execPath, tend, "supervise", resolve(cwd, programPath)];
      if (flags.min !== undefined) argv.push("--min", String(flags.min));
      if (flags.max !== undefined) argv.push("--max", String(flags.max));
      argv.push("--kill-timeout", String(Math.ceil(killTimeout)));
      if (flags.statusFile !== undefined) argv.push("--status-file", resolve(cwd, flags.statusFile));
      const text = renderSystemdUnit({
        workingDirectory: cwd,
        execStart: argv.map(word).join(" "),
        stopBudget: killTimeout + 5_000,
        ...(flags.user === undefined ? {} : { user: flags.user }),
        ...(flags.description === undefined ? {} : { description: flags.description }),
        ...(flags.database === undefined ? {} : { environment: { TEND_DATABASE_URL: flags.database } }),
      });
      process.stdout.write(text);
    });
}
