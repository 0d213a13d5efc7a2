import type { Command } from "commander";
import { checkQueue, formatRate, parseRate, queueInfos, toQueueLimitsChange } from "../../jobs/index.ts";
import { TendError } from "../../errors/index.ts";
import type { QueueSetting } from "../../store/index.ts";
import { databaseOption, withStore } from "../database.ts";
import { renderTable } from "../table.ts";

function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
}

function changed(setting: QueueSetting): string {
  return `queue ${setting.queue} is ${setting.paused ? "paused" : "running"} (since ${setting.changedAt.toISOString()})`;
}

function limits(setting: Pick<QueueSetting, "concurrencyLimit" | "rateLimit">): string {
  return `concurrency ${setting.concurrencyLimit ?? "-"}, rate ${setting.rateLimit === null ? "-" : formatRate(setting.rateLimit)}`;
}

/** `tend queues ...`: list queues, pause and resume them. */
export function register(program: Command): void {
  const queues = program.command("queues").description("list, pause and resume job queues");

  queues
    .command("list")
    .description("every queue with jobs, recent activity or a stored setting, and whether it is paused")
    .addOption(databaseOption())
    .option("--json", "print JSON")
    .action(async (o: { database: string; json?: boolean }) => {
      const rows = await withStore(o.database, (store) => queueInfos(store.jobs));
      print(o.json === true, rows, () =>
        rows.length === 0
          ? "no queues with jobs, recent activity or settings"
          : renderTable(
              [
                "queue",
                "state",
                "available",
                "running",
                "scheduled",
                "retryable",
                "since",
                "concurrency",
                "rate",
              ],
              rows.map((q) => [
                q.queue,
                q.paused ? "paused" : "running",
                q.available,
                q.running,
                q.scheduled,
                q.retryable,
                q.changedAt ?? "-",
                q.concurrencyLimit ?? "-",
                q.rateLimit === null ? "-" : formatRate(q.rateLimit),
              ]),
            ),
      );
    });

  queues
    .command("limit <queue>")
    .description(
      "set or clear the queue's limits for every process: running jobs at once, and starts per window",
    )
    .addOption(databaseOption())
    .option("--concurrency <n>", "at most n of the queue's jobs run at once (1-10000); 'none' clears")
    .option("--rate <n/window>", "at most n starts per window, like 10/1s or 600/1m; 'none' clears")
    .option("--clear", "clear both limits")
    .option("--json", "print JSON")
    .action(
      async (
        queue: string,
        o: { database: string; concurrency?: string; rate?: string; clear?: boolean; json?: boolean },
      ) => {
        const change = toQueueLimitsChange(
          o.clear === true
            ? { concurrency: null, rate: null }
            : {
                ...(o.concurrency === undefined
                  ? {}
                  : { concurrency: o.concurrency === "none" ? null : cliInteger(o.concurrency) }),
                ...(o.rate === undefined ? {} : { rate: o.rate === "none" ? null : parseRate(o.rate) }),
              },
        );
        if (o.clear === true && (o.concurrency !== undefined || o.rate !== undefined))
          throw new TendError(
            "TEND_E_INVALID_QUEUE_LIMITS",
            "tend queues limit: --clear clears both limits; give it alone, or set a limit with --concurrency or --rate (none clears that one)",
          );
        if (o.clear !== true && o.concurrency === undefined && o.rate === undefined)
          throw new TendError(
            "TEND_E_INVALID_QUEUE_LIMITS",
            "tend queues limit: give --concurrency <n>, --rate <n/window> or --clear",
          );
        const setting = await withStore(o.database, (store) =>
          store.jobs.setQueueLimits(checkQueue(queue), change),
        );
        print(o.json === true, setting, () => `queue ${setting.queue}: ${limits(setting)}`);
      },
    );

  for (const [name, description] of [
    ["pause", "stop every worker in every process from claiming the queue's jobs (running jobs finish)"],
    ["resume", "let workers claim the queue's jobs again"],
  ] as const) {
    queues
      .command(`${name} <queue>`)
      .description(description)
      .addOption(databaseOption())
      .option("--json", "print JSON")
      .action(async (queue: string, o: { database: string; json?: boolean }) => {
        const setting = await withStore(o.database, (store) =>
          name === "pause"
            ? store.jobs.pauseQueue(checkQueue(queue))
            : store.jobs.resumeQueue(checkQueue(queue)),
        );
        print(o.json === true, setting, () => changed(setting));
      });
  }
}

/** A whole number as typed (its range is checked with the other limits). */
function cliInteger(text: string): number {
  if (!/^\s*-?\d+\s*$/.test(text))
    throw new TendError(
      "TEND_E_INVALID_QUEUE_LIMITS",
      `tend queues limit --concurrency ${JSON.stringify(text)}: expected an integer from 1 to 10,000, or none`,
      { details: { concurrency: text } },
    );
  return Number(text);
}
