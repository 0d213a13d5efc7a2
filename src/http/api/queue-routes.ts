import { type QueueInfo, type QueueLimits, queueInfos } from "../../jobs/index.ts";
import { emptyQueueStats } from "../../store/index.ts";
import type { Router } from "../router.ts";
import { sendJson } from "../router.ts";
import { action } from "./action-routes.ts";
import { api } from "./respond.ts";
import type { AdminSources } from "./sources.ts";

/** One queue on the queues page: counts by state, pause, and the limits known. */
export interface QueueRow extends QueueInfo {
  /** This process's worker concurrency on it (null: not known here, as in `tend dashboard`). */
  concurrencyHere: number | null;
  /** Live registered processes whose worker serves it, and their summed concurrency (of all their queues). */
  processes: number;
  /** Kinds of the queue with a concurrency or rate limit, as this process defines them. */
  limits: QueueLimits["kinds"];
}

/**
 * Pure: the queues page's rows: every queue with jobs, settings, or limits known here, by name.
 *
 * @example
 * ```ts
 * queueRows(await queueInfos(store.jobs), jobs.queueLimits(), await store.processes.list());
 * ```
 */
export function queueRows(
  infos: readonly QueueInfo[],
  limits: readonly QueueLimits[] | null,
  processes: ReadonlyArray<{ alive: boolean; queues: string[] }>,
): QueueRow[] {
  const rows = new Map<string, QueueRow>();
  const empty = (queue: string): QueueInfo => ({ ...emptyQueueStats(queue), paused: false, changedAt: null });
  const row = (info: QueueInfo): QueueRow => ({
    ...info,
    concurrencyHere: limits === null ? null : 0,
    processes: processes.filter((p) => p.alive && p.queues.includes(info.queue)).length,
    limits: [],
  });
  for (const info of infos) rows.set(info.queue, row(info));
  for (const l of limits ?? []) {
    const r = rows.get(l.queue) ?? row(empty(l.queue));
    r.concurrencyHere = l.concurrency;
    r.limits = l.kinds;
    rows.set(l.queue, r);
  }
  return [...rows.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
}

/** Reads the queues page's rows from the sources. */
export async function readQueueRows(s: AdminSources): Promise<QueueRow[]> {
  const [infos, processes] = await Promise.all([queueInfos(s.store.jobs), s.store.processes.list()]);
  return queueRows(infos, s.queueLimits?.() ?? null, processes);
}

const queueTarget = (params: Readonly<Record<string, string>>) =>
  `queue:${String(params["name"]).slice(0, 100)}`;

/**
 * The queues routes: `GET /api/queues/details` (counts, pause, limits) and
 * `POST /api/queues/:name/pause|resume` (admin token; audited).
 *
 * @example
 * ```ts
 * addQueueRoutes(router, sources);
 * ```
 */
export function addQueueRoutes(router: Router, s: AdminSources): void {
  router.get(
    "/api/queues/details",
    api(async (_req, res) => sendJson(res, 200, { queues: await readQueueRows(s) })),
  );
  router.describe("GET", "/api/queues/details", {
    summary:
      "Every queue with counts by state, whether it is paused (and since when), live processes serving it, and the concurrency and rate limits known to this server.",
  });
  for (const verb of ["pause", "resume"] as const) {
    const path = `/api/queues/:name/${verb}`;
    router.route(
      "POST",
      path,
      action(
        s,
        `queue.${verb}`,
        async (_req, params) => {
          const name = String(params["name"]);
          const setting =
            verb === "pause" ? await s.store.jobs.pauseQueue(name) : await s.store.jobs.resumeQueue(name);
          return {
            target: `queue:${setting.queue}`,
            status: 200,
            body: { queue: setting },
            detail: { paused: setting.paused },
          };
        },
        queueTarget,
      ),
    );
    router.describe("POST", path, {
      summary:
        verb === "pause"
          ? "Pause a queue in every process: no claim returns its jobs from the commit on (running jobs finish)."
          : "Resume a paused queue: its workers are woken at once.",
      auth: true,
    });
  }
}
