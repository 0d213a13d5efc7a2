import type { Command } from "commander";
import { invalidArgument } from "../../errors/index.ts";
import { parseDuration } from "../../lifecycle/index.ts";
import type { Inconsistency } from "../../store/index.ts";
import { databaseOption, withStore } from "../database.ts";
import { integerOption } from "../integer-option.ts";
import { visibleText } from "../visible-text.ts";

/**
 * Pure: reads a time filter: an ISO date/time, or a duration meaning "that long ago" (`"1h"`,
 * `"30m"`). Throws TEND_E_CONVERGER_INVALID_FILTER naming the value.
 *
 * @example
 * ```ts
 * parseSince("2h", new Date("2026-01-01T12:00:00Z")); // 2026-01-01T10:00:00Z
 * ```
 */
export function parseSince(value: string, now: Date, name = "--since"): Date {
  try {
    return new Date(now.getTime() - parseDuration(value, name));
  } catch {
    const at = new Date(value);
    if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
      throw invalidArgument(
        "TEND_E_CONVERGER_INVALID_FILTER",
        name,
        value,
        'a duration ago like "1h" or "30m", or an ISO time like "2026-01-31T12:00:00Z"',
      );
    }
    return at;
  }
}

/**
 * Pure: one line per inconsistency: time, converger, key, what changed; control characters (a key
 * with a line break) are shown as escapes, so that each inconsistency stays on its line.
 *
 * @example
 * ```ts
 * formatInconsistency(row); // '2026-01-01T12:00:00.000Z  archive-account-resources  42  {"resources":[7]}'
 * ```
 */
export function formatInconsistency(row: Inconsistency): string {
  return visibleText(`${row.at.toISOString()}  ${row.converger}  ${row.key}  ${JSON.stringify(row.changes)}`);
}

/**
 * `tend inconsistencies`: lists what convergers changed, newest first (filter by converger and time).
 *
 * @example
 * ```sh
 * tend inconsistencies --converger archive-account-resources --since 1h
 * ```
 */
export function register(program: Command): void {
  program
    .command("inconsistencies")
    .description("list the inconsistencies convergers found and fixed, newest first")
    .addOption(databaseOption())
    .option("-c, --converger <name>", "only this converger")
    .option("--since <when>", 'only after this time: a duration ago ("1h") or an ISO time')
    .option("--until <when>", 'only before this time: a duration ago ("10m") or an ISO time')
    .option(
      "-n, --limit <n>",
      "at most this many (1 to 100000)",
      integerOption("--limit", 1, 100_000, "TEND_E_CONVERGER_INVALID_FILTER"),
      100,
    )
    .option("--json", "one JSON object per line")
    .action(
      async (opts: {
        database: string;
        converger?: string;
        since?: string;
        until?: string;
        limit: number;
        json?: boolean;
      }) => {
        const now = new Date();
        const filter = {
          limit: opts.limit,
          ...(opts.converger === undefined ? {} : { converger: opts.converger }),
          ...(opts.since === undefined ? {} : { since: parseSince(opts.since, now, "--since") }),
          ...(opts.until === undefined ? {} : { until: parseSince(opts.until, now, "--until") }),
        };
        await withStore(opts.database, async (store) => {
          const rows = await store.converge.listInconsistencies(filter);
          if (opts.json === true) {
            for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
            return;
          }
          if (rows.length === 0) {
            process.stdout.write("no inconsistencies recorded for this filter\n");
            return;
          }
          for (const row of rows) process.stdout.write(`${formatInconsistency(row)}\n`);
        });
      },
    );
}
