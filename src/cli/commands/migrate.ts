import type { Command } from "commander";
import { openStore } from "../../store/index.ts";
import { cliLogger, databaseOption } from "../database.ts";

/** `tend migrate`: applies pending migrations under a lock and lists what it applied. */
export function register(program: Command): void {
  program
    .command("migrate")
    .description("apply pending database migrations (safe to run from several processes at once)")
    .addOption(databaseOption())
    .action(async (opts: { database: string }) => {
      const store = await openStore(opts.database, { migrate: false, log: cliLogger() });
      try {
        process.stdout.write(`migrating ${store.url} ...\n`);
        const applied = await store.migrate();
        for (const name of applied) process.stdout.write(`  applied ${name}\n`);
        process.stdout.write(
          applied.length === 0 ? "already up to date\n" : `${applied.length} migration(s) applied\n`,
        );
      } finally {
        await store.close();
      }
    });
}
