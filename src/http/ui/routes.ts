import type { IncomingMessage, ServerResponse } from "node:http";
import { isTendError } from "../../errors/index.ts";
import { activityView, recentActivity } from "../api/activity.ts";
import { allTimeCounts } from "../api/all-time.ts";
import { jobView } from "../api/job-view.ts";
import { listPage } from "../api/list-page.ts";
import { jobFilterOf, pageFrom, pageOf, queryOf, searchScope, sortedQueues } from "../api/query.ts";
import { notFound, pathJobId } from "../api/read-routes.ts";
import { RETRY_AFTER_SECONDS, statusOf } from "../api/respond.ts";
import type { AdminSources } from "../api/sources.ts";
import { type RouteHandler, type RouteParams, type Router, sendError } from "../router.ts";
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

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...headers,
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

/**
 * Pure: the body of the page shown when the database cannot be used (a store error answered
 * 503): what happened, in the store's own words, and what to do.
 *
 * @example
 * ```ts
 * unavailableBody("TEND_E_STORE_UNREACHABLE", "Cannot connect to PostgreSQL at ...");
 * ```
 */
export function unavailableBody(code: string, message: string): ReturnType<typeof html> {
  return html`<h1>Database unavailable</h1>
    <p class="error" role="alert">This page could not be read: the database does not answer.</p>
    <p>${message} <span class="muted">(${code})</span></p>
    <p>
      Nothing was changed. Check that the database server is running and reachable from this server (the host,
      port and network path named above), then reload this page: it works again as soon as the database
      answers, with no restart.
    </p>`;
}

/**
 * A dashboard page: its body in the layout; a TendError of bad input as a 400/404 page, and a
 * database that cannot be used (unreachable, timed out) as a 503 page saying so, with Retry-After.
 */
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
      if (!isTendError(err) || statusOf(err.code) === 500 || res.headersSent) throw err;
      const status = statusOf(err.code);
      if (status === 503) {
        const body = unavailableBody(err.code, err.message);
        return send(res, 503, "text/html; charset=utf-8", layout("Database unavailable", body, mode), {
          "retry-after": String(RETRY_AFTER_SECONDS),
        });
      }
      const body = html`<h1>${status === 404 ? "Not found" : "Bad request"}</h1>
        <p>${err.message}</p>`;
      send(res, status, "text/html; charset=utf-8", layout(title, body, mode));
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
 * only requests whose Origin is this server or one of `http.allowedHosts` (no login CSRF); a
 * refused logout answers 403 TEND_E_ADMIN_FORBIDDEN in the API's error shape.
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
    .route("POST", "/ui/login", async (req, res, _params, { allowedHosts }) => {
      const token = (await readForm(req)).get("token") ?? "";
      const secure = req.headers["x-forwarded-proto"] === "https";
      const fromHere = sameOrigin(req.headers, allowedHosts);
      if (s.adminToken !== null && fromHere && tokenMatches(token, s.adminToken))
        return redirect(res, "/ui", sessionCookie(sessionValue(s.adminToken, Date.now()), secure));
      const why =
        s.adminToken === null
          ? "This dashboard is read-only."
          : fromHere
            ? "That is not this server's admin token."
            : "The login form must be sent from this server's own page (its Origin header names neither this host nor one of http.allowedHosts).";
      send(res, 403, "text/html; charset=utf-8", layout("Log in", form(why), { readOnly }));
    })
    .route("POST", "/ui/logout", (req, res, _params, { allowedHosts }) => {
      if (!sameOrigin(req.headers, allowedHosts))
        return sendError(
          res,
          403,
          "TEND_E_ADMIN_FORBIDDEN",
          "Logging out must be sent from this server's own page (its Origin header names neither this host nor one of http.allowedHosts).",
        );
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
