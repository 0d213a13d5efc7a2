import { type Command, InvalidArgumentError } from "commander";
import { checkJobId, formatRate } from "../../jobs/index.ts";
import {
  JOB_STATES,
  type JobDependencies,
  type JobLink,
  type JobRecord,
  type JobState,
} from "../../store/index.ts";
import { databaseOption, withStore } from "../database.ts";
import { integerOption } from "../integer-option.ts";
import { errorEntries, lastError, noOpReason } from "../../store/index.ts";
import { renderTable } from "../table.ts";
import { pruneCutoff } from "./prune.ts";

function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
}

/** `concurrency key tenant:7 (limit 2)  rate limit 10/1s`, or null for a job with neither. */
function limitsLine(job: JobRecord): string | null {
  const parts: string[] = [];
  if (job.concurrencyKey != null)
    parts.push(
      `concurrency key ${job.concurrencyKey} (${job.concurrencyLimit == null ? "no limit" : `limit ${job.concurrencyLimit}`})`,
    );
  if (job.rateLimit != null) parts.push(`rate limit ${formatRate(job.rateLimit)}`);
  return parts.length === 0 ? null : parts.join("  ");
}

/**
 * Pure: a job's time as ISO 8601, `-` for none, or `(invalid time)` for a stored value no Date
 * holds (see JobRecord).
 *
 * @example
 * ```ts
 * timeText(new Date(Number.NaN)); // "(invalid time)"
 * ```
 */
function timeText(value: unknown): string {
  if (value === null || value === undefined) return "-";
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : "(invalid time)";
}

function summary(job: JobRecord): string {
  const lines = [
    `job ${job.id}  ${job.kind}  [${job.state}]`,
    `queue ${job.queue}  priority ${job.priority}  attempt ${job.attempt}/${job.maxAttempts}  worker lost ${job.lost}/${job.maxLost}`,
    `created ${timeText(job.createdAt)}  run at ${timeText(job.runAt)}`,
    `started ${timeText(job.startedAt)}  finished ${timeText(job.finishedAt)}`,
    `payload ${JSON.stringify(job.payload)}`,
  ];
  if (job.progress !== null) lines.push(`progress ${JSON.stringify(job.progress)}`);
  if (job.result !== null) lines.push(`result ${JSON.stringify(job.result)}`);
  if (job.uniqueKey !== null) lines.push(`unique key ${job.uniqueKey}`);
  const limits = limitsLine(job);
  if (limits !== null) lines.push(limits);
  if (job.workerId !== null)
    lines.push(`worker ${job.workerId}  lease until ${timeText(job.leaseExpiresAt)}`);
  for (const e of errorEntries(job.errors)) {
    lines.push(`error (attempt ${e.attempt}, ${e.at})${e.code === null ? "" : ` ${e.code}`}: ${e.message}`);
    // The stack's first lines repeat the message: show its frames, or all of it when it has none.
    const stack = (e.stack ?? "").split("\n").filter((l) => l.trim() !== "");
    const frames = stack.filter((l) => /^\s+at /.test(l));
    for (const line of frames.length > 0 ? frames : stack) lines.push(`    ${line.trim()}`);
  }
  return lines.join("\n");
}

/** A job's parents and dependents as `jobs show --json` prints them: id, kind and state. */
function dependencyView(deps: JobDependencies): Record<"parents" | "dependents", object[]> {
  const view = (l: JobLink) => ({ id: l.id, kind: l.kind, state: l.state ?? "deleted" });
  return { parents: deps.parents.map(view), dependents: deps.dependents.map(view) };
}

/** Pure: the lines `jobs show` prints for a job's parents and dependents, with their states. */
export function dependencyLines(deps: JobDependencies): string {
  const list = (links: readonly JobLink[]) =>
    links.length === 0
      ? "-"
      : links
          .map((l) => `${l.id}${l.kind === null ? "" : ` ${l.kind}`} [${l.state ?? "deleted"}]`)
          .join(", ");
  return [`runs after ${list(deps.parents)}`, `runs before ${list(deps.dependents)}`].join("\n");
}

function state(value: string): JobState {
  if (!(JOB_STATES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${JOB_STATES.join(", ")}`);
  return value as JobState;
}

/** `tend jobs ...`: inspect and operate the job queue. */
export function register(program: Command): void {
  const jobs = program.command("jobs").description("inspect and operate the job queue");

  jobs
    .command("list")
    .description("list jobs, newest first")
    .addOption(databaseOption())
    .option("-q, --queue <name>", "only this queue")
    .option("-k, --kind <kind>", "only this kind")
    .option("-s, --state <state>", `only this state (${JOB_STATES.join(", ")})`, state)
    .option(
      "-n, --limit <n>",
      "at most this many (1 to 10000)",
      integerOption("--limit", 1, 10_000, "TEND_E_INVALID_STORE_ARGUMENT"),
      50,
    )
    .option("--json", "print JSON")
    .action(
      async (o: {
        database: string;
        queue?: string;
        kind?: string;
        state?: JobState;
        limit: number;
        json?: boolean;
      }) => {
        const rows = await withStore(o.database, (store) =>
          store.jobs.list({
            limit: o.limit,
            ...(o.queue === undefined ? {} : { queue: o.queue }),
            ...(o.kind === undefined ? {} : { kind: o.kind }),
            ...(o.state === undefined ? {} : { state: o.state }),
          }),
        );
        print(o.json === true, rows, () =>
          renderTable(
            ["id", "kind", "queue", "state", "attempt", "run at", "last error"],
            rows.map((j) => [
              j.id,
              j.kind,
              j.queue,
              j.state,
              `${j.attempt}/${j.maxAttempts}`,
              timeText(j.runAt),
              Array.isArray(j.errors) && j.errors.length > 0 ? lastError(j.errors, 60) : undefined,
            ]),
          ),
        );
      },
    );

  jobs
    .command("show <id>")
    .description("show one job with its payload, result and every error")
    .addOption(databaseOption())
    .option("--json", "print JSON")
    .action(async (id: string, o: { database: string; json?: boolean }) => {
      const found = await withStore(o.database, async (store) => {
        const row = await store.jobs.get(checkJobId(id));
        return row === null ? null : { job: row, deps: await store.jobs.dependencies(row.id) };
      });
      if (found === null) {
        process.stderr.write(`tend: no job with id ${id} [TEND_E_JOB_NOT_FOUND]\n`);
        process.exitCode = 1;
        return;
      }
      const { job, deps } = found;
      const linked = deps.parents.length > 0 || deps.dependents.length > 0;
      print(o.json === true, linked ? { ...job, dependencies: dependencyView(deps) } : job, () =>
        linked ? `${summary(job)}\n${dependencyLines(deps)}` : summary(job),
      );
    });

  for (const [name, description] of [
    ["retry", "make a completed, discarded or cancelled job run again, with fresh attempts"],
    ["cancel", "cancel a pending job, or ask the worker running it to abort it"],
  ] as const) {
    jobs
      .command(`${name} <id>`)
      .description(description)
      .addOption(databaseOption())
      .option("--json", "print JSON")
      .action(async (id: string, o: { database: string; json?: boolean }) => {
        let refused: string | null = null;
        const job = await withStore(o.database, async (store) => {
          const before = await store.jobs.get(checkJobId(id));
          if (before === null) return null;
          refused = noOpReason(name, before);
          if (refused !== null) return before;
          return name === "retry" ? store.jobs.retry(checkJobId(id)) : store.jobs.cancel(checkJobId(id));
        });
        if (refused !== null) {
          process.stderr.write(`tend: not done: ${refused} [TEND_E_ADMIN_CONFLICT]\n`);
          process.exitCode = 1;
          return;
        }
        if (job === null) {
          process.stderr.write(`tend: no job with id ${id} [TEND_E_JOB_NOT_FOUND]\n`);
          process.exitCode = 1;
          return;
        }
        print(o.json === true, job, () =>
          name === "cancel" && job.state === "running"
            ? `job ${job.id} is running; its worker was asked to abort it`
            : `job ${job.id} is now ${job.state}`,
        );
      });
  }

  jobs
    .command("stats")
    .description("per-queue counts and rates, read from the store")
    .addOption(databaseOption())
    .option("--json", "print JSON")
    .action(async (o: { database: string; json?: boolean }) => {
      const stats = await withStore(o.database, (store) => store.jobs.stats());
      print(o.json === true, stats, () =>
        stats.length === 0
          ? "no queues with pending jobs or recent activity"
          : renderTable(
              [
                "queue",
                "available",
                "running",
                "scheduled",
                "retryable",
                "waiting",
                "enqueued/s",
                "completed/s",
                "oldest available",
              ],
              stats.map((s) => [
                s.queue,
                s.available,
                s.running,
                s.scheduled,
                s.retryable,
                s.waiting,
                s.enqueuedPerSec.toFixed(2),
                s.completedPerSec.toFixed(2),
                `${(s.oldestAvailableAgeMs / 1000).toFixed(1)} s`,
              ]),
            ),
      );
    });

  jobs
    .command("prune")
    .description("delete completed, discarded and cancelled jobs older than a retention")
    .addOption(databaseOption())
    .option("--older-than <duration>", "retention, e.g. 7d, 12h", "7d")
    .action(async (o: { database: string; olderThan: string }) => {
      const olderThan = pruneCutoff(o.olderThan, "--older-than");
      const total = await withStore(o.database, async (store) => {
        let sum = 0;
        for (;;) {
          const n = await store.jobs.prune(olderThan, 10_000);
          sum += n;
          if (n > 0) process.stderr.write(`  pruned ${sum} so far...\n`);
          if (n < 10_000) return sum;
        }
      });
      process.stdout.write(`pruned ${total} job(s) finished before ${olderThan.toISOString()}\n`);
    });
}
