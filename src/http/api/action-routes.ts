import type { IncomingMessage, ServerResponse } from "node:http";
import { isTendError, TendError } from "../../errors/index.ts";
import type { Router } from "../router.ts";
import { sendJson } from "../router.ts";
import { authorize } from "./auth.ts";
import { readJsonObject } from "./body.ts";
import { notFound, pathJobId } from "./read-routes.ts";
import { jobView } from "./job-view.ts";
import { api } from "./respond.ts";
import type { AdminSources } from "./sources.ts";
import { noOpReason } from "../../store/index.ts";

/** What one action did: the answer's body, and the audit entry's target and detail. */
interface ActionResult {
  target: string;
  status: number;
  body: Record<string, unknown>;
  detail?: Record<string, unknown>;
}

/**
 * Runs one mutating request: authorizes it (403 otherwise, not audited: nothing was done), runs
 * it, and records it in the audit trail with its outcome (the code when it failed) before
 * answering, so that every action answered is durable in the trail.
 */
export function action(
  s: AdminSources,
  name: string,
  run: (req: IncomingMessage, params: Readonly<Record<string, string>>) => Promise<ActionResult>,
  targetOf: (params: Readonly<Record<string, string>>) => string,
) {
  return api(async (req: IncomingMessage, res: ServerResponse, params, context) => {
    const who = authorize(req, s.adminToken, context.allowedHosts);
    let result: ActionResult;
    try {
      result = await run(req, params);
    } catch (err) {
      const outcome = isTendError(err) ? err.code : "error";
      await s.store.admin.recordAudit({ action: name, target: targetOf(params), tokenId: who, outcome });
      throw err;
    }
    const entry = await s.store.admin.recordAudit({
      action: name,
      target: result.target,
      tokenId: who,
      outcome: "ok",
      ...(result.detail === undefined ? {} : { detail: result.detail }),
    });
    sendJson(res, result.status, { ...result.body, audit: entry.id });
  });
}

const jobTarget = (params: Readonly<Record<string, string>>) => `job:${String(params["id"]).slice(0, 40)}`;

/** Pure: enqueue options from a JSON body (a `runAt` text becomes a Date; `tx` is refused). */
export function enqueueOptionsOf(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new TendError("TEND_E_ADMIN_BAD_REQUEST", "`options` must be a JSON object.");
  const options = { ...(value as Record<string, unknown>) };
  if ("tx" in options)
    throw new TendError("TEND_E_ADMIN_BAD_REQUEST", "`options.tx` cannot be given over HTTP.");
  if (typeof options["runAt"] === "string") {
    const at = new Date(options["runAt"]);
    if (Number.isNaN(at.getTime()))
      throw new TendError("TEND_E_ADMIN_BAD_REQUEST", "`options.runAt` is not an ISO-8601 time.");
    options["runAt"] = at;
  }
  return options;
}

/**
 * The admin API's actions: retry, cancel and delete a job, and enqueue one. Each needs the admin
 * token and is recorded in the audit trail.
 *
 * @example
 * ```ts
 * addActionRoutes(router, sources);
 * ```
 */
export function addActionRoutes(router: Router, s: AdminSources): void {
  router
    .route(
      "POST",
      "/api/jobs/:id/retry",
      action(
        s,
        "job.retry",
        async (_req, params) => {
          const id = pathJobId(params["id"]);
          await refuseNoOp(s, "retry", id);
          const job = await s.store.jobs.retry(id);
          if (job === null) throw notFound(id);
          return {
            target: `job:${id}`,
            status: 200,
            body: { job: jobView(job, s.hidePayloads) },
            detail: { state: job.state },
          };
        },
        jobTarget,
      ),
    )
    .route(
      "POST",
      "/api/jobs/:id/cancel",
      action(
        s,
        "job.cancel",
        async (_req, params) => {
          const id = pathJobId(params["id"]);
          await refuseNoOp(s, "cancel", id);
          const job = await s.store.jobs.cancel(id);
          if (job === null) throw notFound(id);
          return {
            target: `job:${id}`,
            status: 200,
            body: { job: jobView(job, s.hidePayloads) },
            detail: { state: job.state, cancelRequested: job.cancelRequested },
          };
        },
        jobTarget,
      ),
    )
    .route(
      "DELETE",
      "/api/jobs/:id",
      action(
        s,
        "job.delete",
        async (_req, params) => {
          const id = pathJobId(params["id"]);
          const { deleted, job } = await s.store.admin.deleteJob(id);
          if (job === null) throw notFound(id);
          if (!deleted)
            throw new TendError(
              "TEND_E_ADMIN_CONFLICT",
              `Job ${id} is running and was not deleted: cancel it first, then delete it once it has stopped.`,
              { details: { id, state: job.state } },
            );
          return {
            target: `job:${id}`,
            status: 200,
            body: { deleted: true, job: jobView(job, s.hidePayloads) },
            detail: { kind: job.kind, state: job.state },
          };
        },
        jobTarget,
      ),
    )
    .route(
      "POST",
      "/api/jobs",
      action(
        s,
        "job.enqueue",
        async (req) => {
          const body = await readJsonObject(req);
          for (const key of Object.keys(body)) {
            if (key !== "kind" && key !== "payload" && key !== "options")
              throw new TendError(
                "TEND_E_ADMIN_BAD_REQUEST",
                `Unknown field "${key.slice(0, 40)}" in the request body: expected kind, payload, options.`,
              );
          }
          const kind = body["kind"];
          if (typeof kind !== "string")
            throw new TendError("TEND_E_ADMIN_BAD_REQUEST", "`kind` must be a string naming the job's kind.");
          const result = await s.enqueue(kind, body["payload"], enqueueOptionsOf(body["options"]));
          return {
            target: `job:${result.id}`,
            status: result.inserted ? 201 : 200,
            body: { ...result },
            detail: { kind, inserted: result.inserted },
          };
        },
        () => "job:new",
      ),
    );
}

/** Refuses (409 TEND_E_ADMIN_CONFLICT) a retry or cancel that would change nothing; 404 for no job. */
async function refuseNoOp(s: AdminSources, action: "retry" | "cancel", id: string): Promise<void> {
  const before = await s.store.jobs.get(id);
  if (before === null) throw notFound(id);
  const reason = noOpReason(action, before);
  if (reason !== null)
    throw new TendError("TEND_E_ADMIN_CONFLICT", `Not done: ${reason}.`, {
      details: { id, state: before.state },
    });
}
