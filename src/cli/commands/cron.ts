import type { Command } from "commander";
import { TendError } from "../../errors/index.ts";
import { CRON_SEEN_EVERY_MS, nextCronRuns } from "../../jobs/index.ts";
import { parseDuration } from "../../lifecycle/index.ts";
import { databaseOption, withStore } from "../database.ts";
import { integerOption } from "../integer-option.ts";
import { renderTable } from "../table.ts";

/**
 * A "not seen for" duration of `option`: at least two of the scheduling processes' one-minute
 * touches, so that a running process's entries are never taken for removed ones.
 */
function unseenFor(text: string, option: string): number {
  const ms = parseDuration(text, option, { positive: true });
  if (ms < 2 * CRON_SEEN_EVERY_MS)
    throw new TendError(
      "TEND_E_INVALID_DURATION",
      `${option} ${JSON.stringify(text)}: expected at least 2m (processes record their schedules as seen every minute)`,
      { details: { value: text } },
    );
  return ms;
}

/**
 * The note under `tend cron list` when an entry has no recorded time zone: its next runs are this
 * CLI's reading of the expression, which the scheduling process may read in another zone.
 */
export function unrecordedZoneNote(here: string | null): string {
  return (
    `* no time zone recorded: the schedule runs in its scheduling process's zone, unknown here ` +
    `(registered by an older tend, or TZ names no IANA zone); its next runs (UTC) are computed in ` +
    `this shell's zone, ${here ?? "unnamed"}, and may be off by that difference\n`
  );
}

/** `tend cron ...`: list, pause and resume cron schedules, read from and written to the store. */
export function register(program: Command): void {
  const cron = program.command("cron").description("list, pause, resume and prune cron schedules");

  cron
    .command("list")
    .description("every cron schedule a process registered, with its next runs and last tick")
    .addOption(databaseOption())
    .option(
      "-n, --next <n>",
      "next runs to show per schedule (0 to 100)",
      integerOption("--next", 0, 100, "TEND_E_INVALID_CRON"),
      3,
    )
    .option(
      "--stale-after <duration>",
      "mark schedules no running process has scheduled for this long (removed from the code?)",
      "10m",
    )
    .option("--json", "print JSON")
    .action(async (o: { database: string; next: number; staleAfter: string; json?: boolean }) => {
      const staleMs = unseenFor(o.staleAfter, "--stale-after");
      const entries = await withStore(o.database, (store) => store.jobs.listCron());
      const now = new Date();
      // Processes register a schedule without timezone with the zone they read it in. An entry
      // without one (registered by an older tend, or by a process whose zone has no IANA name)
      // is computed here in this process's zone, which may not be the scheduling process's: said so.
      const here = (new Intl.DateTimeFormat().resolvedOptions().timeZone as string | undefined) ?? null;
      const rows = entries.map((e) => ({
        ...e,
        stale: now.getTime() - e.lastSeenAt.getTime() > staleMs,
        nextRuns: e.paused ? [] : nextCronRuns(e.expression, e.timezone, o.next, now),
        /** The zone the next runs were computed in; null: this CLI's, its IANA name unknown. */
        nextRunsTimezone: e.timezone ?? here,
        /** False when the store has no zone for the entry: its next runs are computed in this CLI's. */
        timezoneRecorded: e.timezone !== null,
      }));
      if (o.json === true) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${
          rows.length === 0
            ? "no cron schedules registered (a process registers its schedules when it starts them)"
            : renderTable(
                [
                  "name",
                  "kind",
                  "expression",
                  "timezone",
                  "overlap",
                  "state",
                  "last seen",
                  "last tick",
                  "last job",
                  "skipped",
                  "next runs",
                ],
                rows.map((e) => [
                  e.name,
                  e.kind,
                  e.expression,
                  e.timezone ?? "(not recorded)*",
                  e.overlap,
                  `${e.paused ? "paused" : "active"}${e.stale ? " (stale)" : ""}`,
                  e.lastSeenAt,
                  e.lastTick,
                  e.lastJobId === null ? null : `${e.lastJobId} ${e.lastJobState ?? "pruned"}`,
                  e.skipped,
                  e.paused ? "(paused)" : e.nextRuns.map((d) => d.toISOString()).join(", "),
                ]),
              )
        }\n${rows.some((e) => !e.timezoneRecorded) ? unrecordedZoneNote(here) : ""}`,
      );
    });

  cron
    .command("prune")
    .description(
      "delete registered schedules no running process has scheduled for a while (removed from the code); their tick history stays",
    )
    .addOption(databaseOption())
    .option("--older-than <duration>", "not seen for this long, e.g. 1h, 7d (at least 2m)", "1h")
    .action(async (o: { database: string; olderThan: string }) => {
      const seenBefore = new Date(Date.now() - unseenFor(o.olderThan, "--older-than"));
      const gone = await withStore(o.database, (store) => store.jobs.pruneCron(seenBefore));
      process.stdout.write(
        gone.length === 0
          ? `no cron schedule unseen since ${seenBefore.toISOString()}\n`
          : `pruned ${gone.length} cron schedule(s) unseen since ${seenBefore.toISOString()}: ${gone.join(", ")}\n`,
      );
    });

  for (const [name, paused, description] of [
    ["pause", true, "pause a cron schedule in every process: its ticks enqueue nothing until resumed"],
    ["resume", false, "resume a paused cron schedule from its next tick (missed ticks are not made up)"],
  ] as const) {
    cron
      .command(`${name} <name>`)
      .description(description)
      .addOption(databaseOption())
      .action(async (schedule: string, o: { database: string }) => {
        const found = await withStore(o.database, (store) => store.jobs.setCronPaused(schedule, paused));
        if (!found) {
          process.stderr.write(
            `tend: no cron schedule named ${JSON.stringify(schedule)} is registered [TEND_E_CRON_NOT_FOUND]\n`,
          );
          process.exitCode = 1;
          return;
        }
        process.stdout.write(`cron schedule ${schedule} is now ${paused ? "paused" : "active"}\n`);
      });
  }
}
