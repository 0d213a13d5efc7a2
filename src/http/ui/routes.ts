import type { ServerResponse } from "node:http";
import { isTendError } from "../../errors/index.ts";
import { jobView } from "../api/job-view.ts";
import { jobFilterOf, pageFrom, pageOf, queryOf, sortedQueues } from "../api/query.ts";
import { notFound, pathJobId } from "../api/read-routes.ts";
import { statusOf } from "../api/respond.ts";
import type { AdminSources } from "../api/sources.ts";
import type { RouteHandler, RouteParams, Router } from "../router.ts";
import { APP_JS, STYLE_CSS } from "./assets.ts";
import { html } from "./html.ts";
import { layout } from "./layout.ts";
import { auditPage, jobPage, jobsPage, overviewPage } from "./pages.ts";

/**
 * No inline script or style may run, whatever a value holds: everything comes from /ui itself.
 * Together with escaping, a `<script>` in a payload is inert twice over.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
  res.end(body);
}

function page(
  s: AdminSources,
  title: string,
  build: (url: string | undefined, params: RouteParams) => Promise<ReturnType<typeof html>>,
): RouteHandler {
  const readOnly = s.adminToken === null;
  return async (req, res, params) => {
    try {
      send(res, 200, "text/html; charset=utf-8", layout(title, await build(req.url, params), { readOnly }));
    } catch (err) {
      if (!isTendError(err) || statusOf(err.code) === 500) throw err;
      const body = html`<h1>${statusOf(err.code) === 404 ? "Not found" : "Bad request"}</h1>
        <p>${err.message}</p>`;
      send(res, statusOf(err.code), "text/html; charset=utf-8", layout(title, body, { readOnly }));
    }
  };
}

/**
 * Adds the dashboard under `/ui`: server-rendered pages (overview, jobs, job, audit) over the
 * same sources as the admin API; actions go through the API with the admin token.
 *
 * @example
 * ```ts
 * addDashboard(router, sources);
 * ```
 */
export function addDashboard(router: Router, s: AdminSources): Router {
  return router
    .get("/ui/style.css", (_req, res) => send(res, 200, "text/css; charset=utf-8", STYLE_CSS))
    .get("/ui/app.js", (_req, res) => send(res, 200, "text/javascript; charset=utf-8", APP_JS))
    .get(
      "/ui",
      page(s, "Overview", async () => {
        return overviewPage(sortedQueues(await s.store.jobs.stats()));
      }),
    )
    .get(
      "/ui/jobs",
      page(s, "Jobs", async (url) => {
        const filter = jobFilterOf(queryOf(url));
        const rows = await s.store.jobs.list({ ...filter, limit: filter.limit + 1 });
        const { items, next } = pageFrom(rows, filter.limit);
        return jobsPage(
          items.map((j) => jobView(j, s.hidePayloads)),
          { ...filter, next, readOnly: s.adminToken === null },
        );
      }),
    )
    .get(
      "/ui/jobs/:id",
      page(s, "Job", async (_url, params) => {
        const id = pathJobId(params["id"]);
        const job = await s.store.jobs.get(id);
        if (job === null) {
          throw notFound(id);
        }
        return jobPage(jobView(job, s.hidePayloads), { readOnly: s.adminToken === null });
      }),
    )
    .get(
      "/ui/audit",
      page(s, "Audit", async (url) => {
        const p = pageOf(queryOf(url));
        const rows = await s.store.admin.listAudit({ ...p, limit: p.limit + 1 });
        const { items, next } = pageFrom(rows, p.limit);
        return auditPage(items, next);
      }),
    );
}
