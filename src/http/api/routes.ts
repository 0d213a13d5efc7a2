import type { Router } from "../router.ts";
import { addActionRoutes } from "./action-routes.ts";
import { addBulkRoutes } from "./bulk-routes.ts";
import { addConvergerRoutes } from "./converger-routes.ts";
import { addCronRoutes } from "./cron-routes.ts";
import { addInboxRoutes } from "./inbox-routes.ts";
import { addQueueRoutes } from "./queue-routes.ts";
import { addWorkerRoutes } from "./worker-routes.ts";
import { addEventRoutes } from "./events.ts";
import { addOpenApi } from "./openapi.ts";
import { addReadRoutes } from "./read-routes.ts";
import type { AdminSources } from "./sources.ts";

/**
 * Adds the admin API under `/api` to a router: read routes for everyone who can reach the
 * server, actions for holders of the admin token. See docs/dashboard.md.
 *
 * @example
 * ```ts
 * addAdminApi(observedRouter(...), { store, enqueue, convergers, worker, adminToken: null });
 * ```
 */
export function addAdminApi(router: Router, sources: AdminSources): Router {
  addReadRoutes(router, sources);
  addEventRoutes(router, sources);
  addBulkRoutes(router, sources);
  addActionRoutes(router, sources);
  addQueueRoutes(router, sources);
  addCronRoutes(router, sources);
  addConvergerRoutes(router, sources);
  addInboxRoutes(router, sources);
  addWorkerRoutes(router, sources);
  addOpenApi(router);
  return router;
}
