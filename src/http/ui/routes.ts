import type { IncomingMessage, ServerResponse } from "node:http";
import { isTendError } from "../../errors/index.ts";
import { activityView, recentActivity } from "../api/activity.ts";
import { allTimeCounts } from "../api/all-time.ts";
import { jobView } from "../api/job-view.ts";
import { listPage } from "../api/list-page.ts";
import { jobFilterOf, pageFrom, pageOf, queryOf, searchScope, sortedQueues } from "../api/query.ts";
import { notFound, pathJobId } from "../api/read-routes.ts";
import { statusOf } from "../api/respond.ts";
import type { AdminSources } from "../api/sources.ts";
import { type RouteHandler, type RouteParams, type Router, sendJson } from "../router.ts";
import { tokenMatches } from "../api/auth.ts";
import { hasSession, sameOrigin, SESSION_COOKIE, SESSION_TTL_MS, sessionValue } from "../api/session.ts";
import { APP_JS, STYLE_CSS } from "./assets.ts";
import { html } from "./html.ts";
import { layout } from "./layout.ts";
import { addOpsPages } from "./ops-pages.ts";
import { auditPage, jobPage, jobsPage, overviewPage } from "./pages.ts";
import { healthGlance } from "./health-glance.ts";
import { readConvergers } from "../api/converger-routes.ts";
import { readInboxes } from "../api/inbox-routes.ts";
import { readWorkers } from "../api/worker-routes.ts";

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
    // same-origin, not no-referrer: with no-referrer browsers send `Origin: null`, which the
    // cookie's CSRF check (session.ts) rightly refuses.
    "referrer-policy": "same-origin",
  });
  res.end(body);
}

/** A dashboard page: its body in the layout, and a TendError of bad input as a 400/404 page. */
export function page(
  s: AdminSources,
  title: string,
  build: (url: string | undefined, params: RouteParams) => Promise<ReturnType<typeof html>>,
): RouteHandler {
  const readOnly = s.adminToken === null;
  return async (req, res, params) => {
    const mode = { readOnly, session: hasSession(req, s.adminToken) };
    try {
      send(res, 200, "text/html; charset=utf-8", layout(title, await build(req.url, params), mode));
    } catch (err) {
      if (!isTendError(err) || statusOf(err.code) === 500) throw err;
      const body = html`<h1>${statusOf(err.code) === 404 ? "Not found" : "Bad request"}</h1>
        <p>${err.message}</p>`;
      send(res, statusOf(err.code), "text/html; charset=utf-8", layout(title, body, mode));
    }
  };
}

/** Reads a small form body (`application/x-www-form-urlencoded`, at most 4 KiB). */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 4096) return new URLSearchParams();
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function redirect(res: ServerResponse, location: string, cookie?: string): void {
  res.writeHead(303, {
    location,
    "cache-control": "no-store",
    ...(cookie === undefined ? {} : { "set-cookie": cookie }),
  });
  res.end();
}

/** Pure: the Set-Cookie header of a session (or of its removal, for `value` null). */
export function sessionCookie(value: string | null, secure: boolean): string {
  const attributes = `Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
  return value === null
    ? `${SESSION_COOKIE}=; ${attributes}; Max-Age=0`
    : `${SESSION_COOKIE}=${value}; ${attributes}; Max-Age=${SESSION_TTL_MS / 1000}`;
}

/**
 * The login form (`/ui/login`): the admin token, once, for an HttpOnly SameSite=Strict session
 * cookie that the action buttons then use instead of a Bearer header. Login and logout accept
 * only requests whose Origin is this server (no login CSRF).
 */
function addLogin(router: Router, s: AdminSources): void {
  const form = (message: string | null) =>
    html`<h1>Log in</h1>
      ${
        s.adminToken === null
          ? html`<p class="muted">This dashboard is read-only: no admin token is configured.</p>`
          : html`${message === null ? "" : html`<p class="error" role="alert">${message}</p>`}
              <form class="login" method="post" action="/ui/login">
                <label
                  >admin token <input type="password" name="token" autocomplete="current-password" required
                /></label>
                <button type="submit">Log in</button>
              </form>
              <p class="muted">
                The session lasts 12 hours in an HttpOnly, SameSite=Strict cookie; scripts keep using the
                Bearer header.
              </p>`
      }`;
  const readOnly = s.adminToken === null;
  router
    .get("/ui/login", (req, res) =>
      send(
        res,
        200,
        "text/html; charset=utf-8",
        layout("Log in", form(null), { readOnly, session: hasSession(req, s.adminToken) }),
      ),
    )
    .route("POST", "/ui/login", async (req, res) => {
      const token = (await readForm(req)).get("token") ?? "";
      const secure = req.headers["x-forwarded-proto"] === "https";
      if (s.adminToken !== null && sameOrigin(req.headers) && tokenMatches(token, s.adminToken))
        return redirect(res, "/ui", sessionCookie(sessionValue(s.adminToken, Date.now()), secure));
      const why =
        s.adminToken === null
          ? "This dashboard is read-only."
          : sameOrigin(req.headers)
            ? "That is not this server's admin token."
            : "The login form must be sent from this server's own page.";
      send(res, 403, "text/html; charset=utf-8", layout("Log in", form(why), { readOnly }));
    })
    .route("POST", "/ui/logout", (req, res) => {
      if (!sameOrigin(req.headers)) return sendJson(res, 403, { error: "cross-origin logout refused" });
      redirect(res, "/ui", sessionCookie(null, req.headers["x-forwarded-proto"] === "https"));
    });
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
  addLogin(router, s);
  addOpsPages(router, s, page);
  return router
    .get("/ui/style.css", (_req, res) => send(res, 200, "text/css; charset=utf-8", STYLE_CSS))
    .get("/ui/app.js", (_req, res) => send(res, 200, "text/javascript; charset=utf-8", APP_JS))
    .get(
      "/ui",
      page(s, "Overview", async () => {
        const [stats, activity, totals, convergers, inbox, workers] = await Promise.all([
          s.store.jobs.stats(),
          recentActivity(s),
          allTimeCounts(s),
          readConvergers(s),
          readInboxes(s),
          readWorkers(s),
        ]);
        return html`${overviewPage(sortedQueues(stats), activityView(activity, stats), totals)}
        ${healthGlance({ convergers: convergers.convergers, inbox, workers: workers.workers, masters: workers.masters })}`;
      }),
    )
    .get(
      "/ui/jobs",
      page(s, "Jobs", async (url) => {
        const filter = jobFilterOf(queryOf(url));
        const { items, next, searchedTo } = await listPage(
          s.store,
          searchScope(filter, s.hidePayloads),
          s.listWindow,
        );
        return jobsPage(
          items.map((j) => jobView(j, s.hidePayloads)),
          {
            ...filter,
            from: queryOf(url).get("from") || undefined,
            to: queryOf(url).get("to") || undefined,
            q: filter.text,
            next,
            searchedTo,
            readOnly: s.adminToken === null,
          },
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
