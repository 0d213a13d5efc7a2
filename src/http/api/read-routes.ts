import type { Router } from "../router.ts";
import { sendJson } from "../router.ts";
import { jobFilterOf, pageFrom, pageOf, queryOf, searchScope, sortedQueues } from "./query.ts";
import { activityView, recentActivity } from "./activity.ts";
import { jobView } from "./job-view.ts";
import { listPage } from "./list-page.ts";
import { api } from "./respond.ts";
import type { AdminSources } from "./sources.ts";
import { TendError } from "../../errors/index.ts";
import { isJobId, jobIdText } from "../../store/index.ts";

/** Pure: a job id from a path, or TEND_E_ADMIN_BAD_REQUEST. */
export function pathJobId(id: string | undefined): string {
  if (!isJobId(id))
    throw new TendError(
      "TEND_E_ADMIN_BAD_REQUEST",
      `"${String(id).slice(0, 40)}" is not a job id (decimal digits).`,
    );
  return jobIdText(id);
}

/** Throws TEND_E_ADMIN_NOT_FOUND for a job that does not exist. */
export function notFound(id: string): TendError {
  return new TendError("TEND_E_ADMIN_NOT_FOUND", `There is no job ${id}.`, { details: { id } });
}

/**
 * The admin API's read routes: queues, jobs (filtered, keyset-paginated), one job, convergers
 * with parked keys and inconsistencies, this process's worker, and the audit trail.
 *
 * @example
 * ```ts
 * addReadRoutes(router, sources);
 * ```
 */
export function addReadRoutes(router: Router, s: AdminSources): void {
  router
    .get(
      "/api",
      api(async (_req, res) =>
        sendJson(res, 200, {
          readOnly: s.adminToken === null,
          driver: s.store.driver,
          routes: router.paths.filter((p) => p.startsWith("/api")),
        }),
      ),
    )
    .get(
      "/api/queues",
      api(async (_req, res) => {
        sendJson(res, 200, { queues: sortedQueues(await s.store.jobs.stats()) });
      }),
    )
    .get(
      "/api/activity",
      api(async (_req, res) => {
        const [activity, stats] = await Promise.all([recentActivity(s), s.store.jobs.stats()]);
        sendJson(res, 200, activityView(activity, stats));
      }),
    )
    .get(
      "/api/jobs",
      api(async (req, res) => {
        const { items, next, searchedTo } = await listPage(
          s.store,
          searchScope(jobFilterOf(queryOf(req.url)), s.hidePayloads),
          s.listWindow,
        );
        sendJson(res, 200, {
          jobs: items.map((j) => jobView(j, s.hidePayloads)),
          next,
          ...(searchedTo === null ? {} : { searchedTo }),
        });
      }),
    )
    .get(
      "/api/jobs/:id",
      api(async (_req, res, params) => {
        const id = pathJobId(params["id"]);
        const job = await s.store.jobs.get(id);
        if (job === null) throw notFound(id);
        sendJson(res, 200, { job: jobView(job, s.hidePayloads) });
      }),
    )
    .get(
      "/api/convergers",
      api(async (_req, res) => {
        const parked = await s.store.converge.listTerminal();
        sendJson(res, 200, {
          convergers: s.convergers().map((c) => {
            const m = c.metrics();
            return {
              name: c.name,
              leader: c.isLeader(),
              holderId: c.holderId,
              lastSweepAt: m.lastSweepAt === null ? null : new Date(m.lastSweepAt).toISOString(),
              sweeps: m.sweeps,
              runs: m.runs,
              changes: m.changes,
              errors: m.errors,
              parked: parked.filter((k) => k.converger === c.definition.name).length,
            };
          }),
          parked: parked.slice(0, 500),
        });
      }),
    )
    .get(
      "/api/convergers/inconsistencies",
      api(async (req, res) => {
        const q = queryOf(req.url);
        const { limit } = pageOf(q);
        const converger = q.get("converger");
        const key = q.get("key");
        const rows = await s.store.converge.listInconsistencies({
          limit,
          ...(converger === null || converger === "" ? {} : { converger }),
          ...(key === null || key === "" ? {} : { key }),
        });
        sendJson(res, 200, { inconsistencies: rows });
      }),
    )
    .get(
      "/api/workers",
      api(async (_req, res) => {
        // Every tend process registered in the database (any machine), newest heartbeat first per host.
        sendJson(res, 200, { workers: await s.store.processes.list() });
      }),
    )
    .get(
      "/api/audit",
      api(async (req, res) => {
        const page = pageOf(queryOf(req.url));
        const rows = await s.store.admin.listAudit({ ...page, limit: page.limit + 1 });
        const { items, next } = pageFrom(rows, page.limit);
        sendJson(res, 200, { entries: items, next });
      }),
    );
}
