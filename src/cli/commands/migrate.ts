import type { Command } from "commander";
import { migrationStatus, openStore, TEND_VERSION } from "../../store/index.ts";
import { cliLogger, databaseOption } from "../database.ts";
import { renderTable } from "../table.ts";

/**
 * `tend migrate [--status] [--json]`: applies pending migrations under a lock, or lists them; with
 * `--json`, what it applied (or, with `--status`, every migration's state) as one JSON object.
 *
 * @example
 * ```sh
 * tend migrate --json   # {"database":"sqlite:./var/tend.db","code":"0.1.0","applied":["..."]}
 * ```
 */
export function register(program: Command): void {
  program
    .command("migrate")
    .description("apply pending database migrations (safe to run from several processes at once)")
    .addOption(databaseOption())
    .option("--status", "list applied, pending and unknown (newer) migrations; apply nothing")
    .option(
      "--json",
      "print JSON: the migrations applied ({ database, code, applied }); with --status, every migration's state",
    )
    .action(async (opts: { database: string; status?: boolean; json?: boolean }) => {
      if (opts.status === true) {
        const store = await openStore(opts.database, { migrate: false, create: false, log: cliLogger() });
        try {
          const rows = await migrationStatus(store);
          if (opts.json === true) {
            process.stdout.write(`${JSON.stringify({ code: TEND_VERSION, migrations: rows })}\n`);
            return;
          }
          process.stdout.write(`${store.url} (this tend: ${TEND_VERSION})\n`);
          process.stdout.write(
            `${renderTable(
              ["state", "component", "version", "compatible from", "applied at", "name"],
              rows.map((r) => [
                r.state,
                r.component,
                r.version,
                r.compatibleFrom,
                r.appliedAt === null ? null : new Date(r.appliedAt),
                r.name,
              ]),
            )}\n`,
          );
          const pending = rows.filter((r) => r.state === "pending").length;
          const unknown = rows.filter((r) => r.state === "unknown").length;
          process.stdout.write(
            `${pending} pending${unknown > 0 ? `, ${unknown} unknown to this version (applied by a newer one)` : ""}\n`,
          );
        } finally {
          await store.close();
        }
        return;
      }
      const store = await openStore(opts.database, { migrate: false, log: cliLogger() });
      try {
        if (opts.json === true) {
          const applied = await store.migrate();
          process.stdout.write(`${JSON.stringify({ database: store.url, code: TEND_VERSION, applied })}\n`);
          return;
        }
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
