import { TendError } from "../../errors/index.ts";
import { type CronEntryState, describeCron, nextCronRuns } from "../../jobs/index.ts";
import type { InsertResult } from "../../store/index.ts";
import type { Router } from "../router.ts";
import { sendJson } from "../router.ts";
import { action } from "./action-routes.ts";
import { api } from "./respond.ts";
import type { AdminSources } from "./sources.ts";

/** One cron entry on the cron page: its registered state, in words, with its next runs. */
export interface CronRow extends CronEntryState {
  /** The schedule in plain words (the expression when it is not a common shape). */
  description: string;
  /** The next three ticks (empty when the expression cannot be read here). */
  nextRuns: Date[];
}

/** Reads every registered cron entry as the cron page shows it. */
export async function readCronRows(s: AdminSources, now = new Date()): Promise<CronRow[]> {
  return (await s.store.jobs.listCron()).map((e) => ({
    ...e,
    description: describeCron(e.expression),
    nextRuns: nextCronRuns(e.expression, e.timezone, 3, now),
  }));
}

function cronNotFound(name: string): TendError {
  return new TendError(
    "TEND_E_CRON_NOT_FOUND",
    `No cron schedule named "${name.slice(0, 100)}" is registered (a process registers its schedules when it starts them).`,
    { details: { name: name.slice(0, 200) } },
  );
}

/**
 * Enqueues a cron entry's job now: as this process defines the schedule when it does; otherwise
 * (another process's schedule, or `tend dashboard`) as a copy of the job of its last tick (kind,
 * payload, queue, priority, attempts). Records no tick.
 */
async function runNow(s: AdminSources, name: string): Promise<{ result: InsertResult; from: string }> {
  const here = (await s.runCronNow?.(name)) ?? null;
  if (here !== null) return { result: here, from: "definition" };
  const entry = (await s.store.jobs.listCron()).find((e) => e.name === name);
  if (entry === undefined) throw cronNotFound(name);
  const last = entry.lastJobId === null ? null : await s.store.jobs.get(entry.lastJobId);
  if (last === null)
    throw new TendError(
      "TEND_E_ADMIN_CONFLICT",
      `Cron schedule "${name.slice(0, 100)}" cannot be run from here: this server does not define it and the job of its last tick is gone (run it from a process of the app, or wait for its next tick).`,
      { details: { name: name.slice(0, 200) } },
    );
  const result = await s.enqueue(last.kind, last.payload, {
    queue: last.queue,
    priority: last.priority,
    maxAttempts: last.maxAttempts,
  });
  return { result, from: `job:${last.id}` };
}

const cronTarget = (params: Readonly<Record<string, string>>) =>
  `cron:${String(params["name"]).slice(0, 150)}`;

/**
 * The cron routes: `GET /api/cron` (every registered entry, in words, with its next runs), and
 * `POST /api/cron/:name/run|pause|resume` (admin token; audited).
 *
 * @example
 * ```ts
 * addCronRoutes(router, sources);
 * ```
 */
export function addCronRoutes(router: Router, s: AdminSources): void {
  router.get(
    "/api/cron",
    api(async (_req, res) => sendJson(res, 200, { entries: await readCronRows(s) })),
  );
  router.describe("GET", "/api/cron", {
    summary:
      "Every registered cron schedule: expression, time zone, in words, next three runs, last tick and its job, paused.",
  });
  router.route(
    "POST",
    "/api/cron/:name/run",
    action(
      s,
      "cron.run",
      async (_req, params) => {
        const name = String(params["name"]);
        const { result, from } = await runNow(s, name);
        return {
          target: `cron:${name.slice(0, 150)}`,
          status: result.inserted ? 201 : 200,
          body: { ...result },
          detail: { job: result.id, inserted: result.inserted, from },
        };
      },
      cronTarget,
    ),
  );
  router.describe("POST", "/api/cron/:name/run", {
    summary:
      "Enqueue the schedule's job now (as the serving process defines it, else a copy of its last tick's job); records no tick.",
    auth: true,
  });
  for (const verb of ["pause", "resume"] as const) {
    const path = `/api/cron/:name/${verb}`;
    router.route(
      "POST",
      path,
      action(
        s,
        `cron.${verb}`,
        async (_req, params) => {
          const name = String(params["name"]);
          if (!(await s.store.jobs.setCronPaused(name, verb === "pause"))) throw cronNotFound(name);
          return {
            target: `cron:${name.slice(0, 150)}`,
            status: 200,
            body: { name, paused: verb === "pause" },
            detail: { paused: verb === "pause" },
          };
        },
        cronTarget,
      ),
    );
    router.describe("POST", path, {
      summary:
        verb === "pause"
          ? "Disable a cron schedule in every process: its ticks enqueue nothing until it is resumed."
          : "Enable a paused cron schedule again (missed ticks are not made up).",
      auth: true,
    });
  }
}
