import { Command, CommanderError } from "commander";
import { TendError } from "../errors/index.ts";
import { TEND_VERSION } from "../store/index.ts";
import { exitOnOutputError } from "./output-errors.ts";

/** Each command lives in its own module exporting `register(program)`. */
const COMMANDS: ReadonlyArray<() => Promise<{ register(program: Command): void }>> = [
  () => import("./commands/migrate.ts"),
  () => import("./commands/jobs.ts"),
  () => import("./commands/cron.ts"),
  () => import("./commands/queues.ts"),
  () => import("./commands/inconsistencies.ts"),
  () => import("./commands/converge.ts"),
  () => import("./commands/supervise.ts"),
  () => import("./commands/unit.ts"),
  () => import("./commands/status.ts"),
  () => import("./commands/build.ts"),
  () => import("./commands/dashboard.ts"),
];

/** Builds the `tend` command with every subcommand registered. */
export async function buildProgram(): Promise<Command> {
  const program = new Command("tend")
    .description("tend: jobs, convergers, inboxes and supervised workers for a TypeScript service")
    .version(TEND_VERSION)
    .option("--verbose", "on an error, also print its causes and stack")
    .showHelpAfterError()
    .exitOverride();
  for (const load of COMMANDS) (await load()).register(program);
  return program;
}

/** The causes of an error, outermost first, at most 5 deep. */
function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  let at: unknown = err;
  while (at instanceof Error && at.cause !== undefined && out.length < 5) {
    out.push(at.cause);
    at = at.cause;
  }
  return out;
}

/**
 * Pure: what the CLI prints for an error: one line, `tend: <message> [<code>]`, with a pointer to
 * `--verbose`; with `verbose`, also each cause and the stacks.
 *
 * @example
 * ```ts
 * process.stderr.write(renderCliError(err, argv.includes("--verbose")));
 * ```
 */
export function renderCliError(err: unknown, verbose: boolean): string {
  const message = err instanceof Error ? err.message || err.name : String(err);
  const code = err instanceof TendError ? err.code : (err as { code?: unknown } | null)?.code;
  const line = `tend: ${message.replaceAll("\n", " ")}${typeof code === "string" ? ` [${code}]` : ""}\n`;
  if (!verbose) return `${line}(run again with --verbose for the cause and stack)\n`;
  const parts = [line, `${err instanceof Error ? err.stack : String(err)}\n`];
  for (const cause of causes(err)) {
    parts.push(`caused by: ${cause instanceof Error ? cause.stack : String(cause)}\n`);
  }
  return parts.join("");
}

/**
 * Runs the CLI with `argv` (as in process.argv). An error is printed as one clear line with its
 * code on stderr (`--verbose` adds its causes and stack); the exit code is 1 for an error, 2 for a
 * usage mistake. When its reader goes away (`tend jobs list --json | head`), it stops quietly with
 * exit code 0; another error writing its output is reported as an error (see exitOnOutputError).
 *
 * @example
 * ```ts
 * await runCli(process.argv);
 * ```
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  const verbose = argv.includes("--verbose");
  exitOnOutputError((err) => renderCliError(err, verbose));
  const program = await buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(renderCliError(err, verbose));
    process.exitCode = 1;
  }
}
