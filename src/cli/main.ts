import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { TendError } from "../errors/index.ts";

/** Each command lives in its own module exporting `register(program)`. */
const COMMANDS: ReadonlyArray<() => Promise<{ register(program: Command): void }>> = [
  () => import("./commands/migrate.ts"),
  () => import("./commands/jobs.ts"),
  () => import("./commands/inconsistencies.ts"),
  () => import("./commands/supervise.ts"),
  () => import("./commands/unit.ts"),
  () => import("./commands/status.ts"),
];

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Builds the `tend` command with every subcommand registered. */
export async function buildProgram(): Promise<Command> {
  const program = new Command("tend")
    .description("tend: jobs, convergers, inboxes and supervised workers for a TypeScript service")
    .version(version())
    .showHelpAfterError()
    .exitOverride();
  for (const load of COMMANDS) (await load()).register(program);
  return program;
}

/**
 * Runs the CLI with `argv` (as in process.argv). Errors are printed as one clear line with their
 * code; the exit code is 1 for an error, 2 for a usage mistake.
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  const program = await buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof TendError) {
      process.stderr.write(`tend: ${err.message} [${err.code}]\n`);
    } else {
      process.stderr.write(`tend: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    process.exitCode = 1;
  }
}
