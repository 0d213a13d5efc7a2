import { readConvergers } from "../api/converger-routes.ts";
import { readCronRows } from "../api/cron-routes.ts";
import { readInboxes } from "../api/inbox-routes.ts";
import { pageOf, queryOf } from "../api/query.ts";
import { readQueueRows } from "../api/queue-routes.ts";
import type { AdminSources } from "../api/sources.ts";
import { readWorkers } from "../api/worker-routes.ts";
import type { RouteHandler, RouteParams, Router } from "../router.ts";
import type { SafeHtml } from "./html.ts";
import { convergersPage } from "./pages-convergers.ts";
import { cronPage } from "./pages-cron.ts";
import { inboxPage } from "./pages-inbox.ts";
import { queuesPage } from "./pages-queues.ts";
import { workersPage } from "./pages-workers.ts";

/** Builds a dashboard page handler (see routes.ts): title and the page's body from the request. */
export type PageOf = (
  s: AdminSources,
  title: string,
  build: (url: string | undefined, params: RouteParams) => Promise<SafeHtml>,
) => RouteHandler;

function text(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === "" ? undefined : v.slice(0, 500);
}

/**
 * Adds the operations pages: queues (`/ui/queues`), cron (`/ui/cron`), convergers
 * (`/ui/convergers`), inbox (`/ui/inbox`) and workers (`/ui/workers`), read from the same
 * sources as their `/api` routes; their buttons act through those routes.
 *
 * @example
 * ```ts
 * addOpsPages(router, sources, page);
 * ```
 */
export function addOpsPages(router: Router, s: AdminSources, page: PageOf): void {
  const readOnly = s.adminToken === null;
  router
    .get(
      "/ui/queues",
      page(s, "Queues", async () =>
        queuesPage(await readQueueRows(s), { readOnly, limitsKnown: s.queueLimits !== undefined }),
      ),
    )
    .get(
      "/ui/cron",
      page(s, "Cron", async () => cronPage(await readCronRows(s), { readOnly })),
    )
    .get(
      "/ui/convergers",
      page(s, "Convergers", async (url) => {
        const q = queryOf(url);
        const { limit } = pageOf(q);
        const converger = text(q, "converger");
        const key = text(q, "key");
        const [{ convergers, parked }, inconsistencies] = await Promise.all([
          readConvergers(s),
          s.store.converge.listInconsistencies({
            limit,
            ...(converger === undefined ? {} : { converger }),
            ...(key === undefined ? {} : { key }),
          }),
        ]);
        return convergersPage({
          convergers,
          parked: parked.slice(0, 500),
          inconsistencies,
          ...(converger === undefined ? {} : { converger }),
          ...(key === undefined ? {} : { key }),
          readOnly,
        });
      }),
    )
    .get(
      "/ui/inbox",
      page(s, "Inbox", async () => inboxPage(await readInboxes(s), { readOnly })),
    )
    .get(
      "/ui/workers",
      page(s, "Workers", async () => workersPage(await readWorkers(s), Date.now())),
    );
}
