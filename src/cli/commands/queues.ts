import type { Command } from "commander";
import { checkQueue, queueInfos } from "../../jobs/index.ts";
import type { QueueSetting } from "../../store/index.ts";
import { databaseOption, withStore } from "../database.ts";
import { renderTable } from "../table.ts";

function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
}

function changed(setting: QueueSetting): string {
  return `queue ${setting.queue} is ${setting.paused ? "paused" : "running"} (since ${setting.changedAt.toISOString()})`;
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
              ["queue", "state", "available", "running", "scheduled", "retryable", "since"],
              rows.map((q) => [
                q.queue,
                q.paused ? "paused" : "running",
                q.available,
                q.running,
                q.scheduled,
                q.retryable,
                q.changedAt ?? "-",
              ]),
            ),
      );
    });

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
