/**
 * The HTTP surface: a small server run as a Task, probes (`/healthz`, `/readyz`) and the
 * metrics endpoint. Loaded by the app only when `http` is configured. This file is the folder's
 * face towards the rest of tend.
 */
export { EventLoopWatch } from "./health.ts";
export {
  checkHttpOptions,
  type DashboardOptions,
  type HttpOptions,
  type HttpSettings,
  parseHttpAddress,
} from "./options.ts";
export { type ReadinessReport, Readiness, type ReadinessSources } from "./readiness.ts";
export { type RouteHandler, type RouteMethod, type RouteParams, Router, sendJson } from "./router.ts";
export { type HttpServer, type HttpStopOptions, listenHttp } from "./server.ts";
export { type ObservedRoutes, observedRouter } from "./routes.ts";
export { type ObservabilityServerOptions, serveObservability } from "./serve.ts";
export { addAdminApi } from "./api/routes.ts";
export type { AdminSources } from "./api/sources.ts";
export { addDashboard } from "./ui/routes.ts";
