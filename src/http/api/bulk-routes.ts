import { TendError } from "../../errors/index.ts";
import {
  BULK_ACTIONS,
  type BulkAction,
  type BulkFilter,
  JOB_STATES,
  type JobState,
} from "../../store/index.ts";
import type { Router } from "../router.ts";
import { sendJson } from "../router.ts";
import { action } from "./action-routes.ts";
import { readJsonObject } from "./body.ts";
import { queryOf } from "./query.ts";
import { api } from "./respond.ts";
import type { AdminSources } from "./sources.ts";

/** Pure: the bulk action named by a path, or TEND_E_ADMIN_BAD_REQUEST. */
export function bulkActionOf(name: string | undefined): BulkAction {
  if (!(BULK_ACTIONS as readonly string[]).includes(String(name)))
    throw new TendError(
      "TEND_E_ADMIN_BAD_REQUEST",
      `"${String(name).slice(0, 40)}" is not a bulk action: expected one of ${BULK_ACTIONS.join(", ")}.`,
    );
  return name as BulkAction;
}

/**
 * Pure: a bulk filter from query parameters or a JSON body (`state`, `queue`, `kind`; at least
 * one; empty values are absent). Throws TEND_E_ADMIN_BAD_REQUEST naming a bad or unknown field.
 *
 * @example
 * ```ts
 * bulkFilterOf({ state: "scheduled", queue: "mail" }); // { state: "scheduled", queue: "mail" }
 * ```
 */
export function bulkFilterOf(fields: Readonly<Record<string, unknown>>): BulkFilter {
  const filter: BulkFilter = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key !== "state" && key !== "queue" && key !== "kind")
      throw new TendError(
        "TEND_E_ADMIN_BAD_REQUEST",
        `Unknown field "${key.slice(0, 40)}" in a bulk filter: expected state, queue, kind.`,
      );
    if (value === undefined || value === "") continue;
    if (typeof value !== "string")
      throw new TendError("TEND_E_ADMIN_BAD_REQUEST", `\`${key}\` must be a string.`);
    if (key === "state") {
      if (!(JOB_STATES as readonly string[]).includes(value))
        throw new TendError(
          "TEND_E_ADMIN_BAD_REQUEST",
          `"${value.slice(0, 40)}" is not a job state: expected one of ${JOB_STATES.join(", ")}.`,
        );
      filter.state = value as JobState;
    } else filter[key] = value;
  }
  if (Object.keys(filter).length === 0)
    throw new TendError(
      "TEND_E_ADMIN_BAD_REQUEST",
      "A bulk action needs a filter: at least one of state, queue, kind (it never acts on every job at once).",
    );
  return filter;
}

/** Pure: the audit target of a bulk action: `jobs?state=...&queue=...`. */
export function bulkTarget(filter: BulkFilter): string {
  const q = new URLSearchParams();
  for (const key of ["state", "queue", "kind"] as const)
    if (filter[key] !== undefined) q.set(key, filter[key]);
  return `jobs?${q.toString()}`.slice(0, 200);
}

/**
 * Bulk actions on every job a filter matches: `GET /api/jobs/bulk/:action?state=&queue=&kind=`
 * answers how many jobs it would act on now (`{ action, count }`, a read anyone may do), and
 * `POST /api/jobs/bulk/:action` with the filter as JSON acts (admin token; audited with the count).
 * Registered before the one-job actions, whose `/api/jobs/:id/retry` would match `bulk` as an id.
 *
 * @example
 * ```ts
 * addBulkRoutes(router, sources);
 * // curl -X POST -H "Authorization: Bearer $T" -d '{"state":"scheduled","queue":"mail"}' .../api/jobs/bulk/cancel
 * ```
 */
export function addBulkRoutes(router: Router, s: AdminSources): void {
  router.get(
    "/api/jobs/bulk/:action",
    api(async (req, res, params) => {
      const name = bulkActionOf(params["action"]);
      const filter = bulkFilterOf(Object.fromEntries(queryOf(req.url)));
      const count = await s.store.admin.countBulk(name, filter);
      sendJson(res, 200, { action: name, filter, count });
    }),
  );
  for (const name of BULK_ACTIONS) {
    router.route(
      "POST",
      `/api/jobs/bulk/${name}`,
      action(
        s,
        `jobs.bulk.${name}`,
        async (req) => {
          const filter = bulkFilterOf(await readJsonObject(req));
          const outcome = await s.store.admin.runBulk(name, filter);
          return {
            target: bulkTarget(filter),
            status: 200,
            body: { action: name, filter, ...outcome },
            detail: { ...outcome },
          };
        },
        () => "jobs",
      ),
    );
  }
}
