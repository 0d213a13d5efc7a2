import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { clearParkedKeys, listParkedKeys } from "../../converge/index.ts";
import { invalidArgument } from "../../errors/index.ts";
import { parseDuration } from "../../lifecycle/index.ts";
import { databaseOption, withStore } from "../database.ts";
import { renderTable } from "../table.ts";

/** Asks a yes/no question on the terminal; false when stdin is not one. */
async function confirm(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/**
 * `tend converge ...`: operate convergers' stored state: list and clear parked keys (keys whose
 * `converge` threw a TerminalError), and prune old inconsistencies.
 *
 * @example
 * ```sh
 * tend converge keys list --converger archive-account-resources
 * tend converge keys clear archive-account-resources 42
 * tend converge inconsistencies prune --older-than 90d
 * ```
 */
export function register(program: Command): void {
  const converge = program
    .command("converge")
    .description("operate convergers: parked keys, old inconsistencies");
  const keys = converge
    .command("keys")
    .description("keys parked after a TerminalError (not retried until they change or are cleared)");

  keys
    .command("list")
    .description("list parked keys, oldest first")
    .addOption(databaseOption())
    .option("-c, --converger <name>", "only this converger")
    .option("--json", "one JSON object per line")
    .action(async (o: { database: string; converger?: string; json?: boolean }) => {
      const parked = await withStore(o.database, (store) => listParkedKeys(store, o.converger));
      if (o.json === true) {
        for (const k of parked) process.stdout.write(`${JSON.stringify(k)}\n`);
        return;
      }
      if (parked.length === 0) {
        process.stdout.write("no parked keys\n");
        return;
      }
      process.stdout.write(
        `${renderTable(
          ["converger", "key", "parked at", "version", "error"],
          parked.map((k) => [
            k.converger,
            k.key,
            k.at.toISOString(),
            k.version ?? "-",
            k.message.slice(0, 80),
          ]),
        )}\n`,
      );
    });

  keys
    .command("clear <converger> [key]")
    .description(
      "clear one parked key, or all of a converger's (--all): the converger runs them again at once",
    )
    .addOption(databaseOption())
    .option("--all", "clear every parked key of the converger")
    .option("-y, --yes", "with --all: do not ask for confirmation")
    .action(
      async (
        converger: string,
        key: string | undefined,
        o: { database: string; all?: boolean; yes?: boolean },
      ) => {
        if ((key === undefined) === (o.all !== true)) {
          throw invalidArgument(
            "TEND_E_CONVERGER_INVALID_FILTER",
            "keys to clear",
            key ?? "(none)",
            "either one key, or --all (with --yes) for every parked key of the converger",
          );
        }
        await withStore(o.database, async (store) => {
          if (key !== undefined) {
            const cleared = await clearParkedKeys(store, converger, key);
            if (cleared === 0) {
              process.stderr.write(
                `tend: converger "${converger}" has no parked key ${JSON.stringify(key)}\n`,
              );
              process.exitCode = 1;
              return;
            }
            process.stdout.write(`cleared parked key ${JSON.stringify(key)} of converger "${converger}"\n`);
            return;
          }
          const parked = await listParkedKeys(store, converger);
          if (parked.length === 0) {
            process.stdout.write(`converger "${converger}" has no parked keys\n`);
            return;
          }
          const question = `Clear all ${parked.length} parked key(s) of converger "${converger}"?`;
          if (o.yes !== true && !(await confirm(question))) {
            process.stderr.write(
              `tend: not cleared: ${parked.length} parked key(s) of converger "${converger}" would be cleared; run again with --yes to clear them\n`,
            );
            process.exitCode = 1;
            return;
          }
          const cleared = await clearParkedKeys(store, converger, null);
          process.stdout.write(`cleared ${cleared} parked key(s) of converger "${converger}"\n`);
        });
      },
    );

  converge
    .command("inconsistencies")
    .description("manage recorded inconsistencies (list them with `tend inconsistencies`)")
    .command("prune")
    .description("delete inconsistencies recorded before a retention (the convergers' leaders also do this)")
    .addOption(databaseOption())
    .option("--older-than <duration>", "retention, e.g. 30d, 12h", "30d")
    .option("-c, --converger <name>", "only this converger")
    .action(async (o: { database: string; olderThan: string; converger?: string }) => {
      const olderThan = new Date(
        Date.now() - parseDuration(o.olderThan, "--older-than", { code: "TEND_E_CONVERGER_INVALID_FILTER" }),
      );
      const total = await withStore(o.database, async (store) => {
        let sum = 0;
        for (;;) {
          const n = await store.converge.pruneInconsistencies(o.converger ?? null, olderThan, 10_000);
          sum += n;
          if (n < 10_000) return sum;
          process.stderr.write(`  pruned ${sum} so far...\n`);
        }
      });
      process.stdout.write(`pruned ${total} inconsistency(ies) recorded before ${olderThan.toISOString()}\n`);
    });
}
