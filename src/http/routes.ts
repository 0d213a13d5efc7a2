import type { EventLoopWatch } from "./health.ts";
import type { Readiness } from "./readiness.ts";
import { Router, sendJson } from "./router.ts";

/** What the observability endpoints read. */
export interface ObservedRoutes {
  loop: EventLoopWatch;
  readiness: Readiness;
  /** The Prometheus exposition (text and its content type). */
  metrics(): Promise<{ contentType: string; body: string }>;
}

/**
 * The router of `/healthz`, `/readyz` and `/metrics`.
 *
 * @example
 * ```ts
 * const router = observedRouter({ loop, readiness, metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }) });
 * ```
 */
export function observedRouter(sources: ObservedRoutes): Router {
  return new Router()
    .get("/healthz", (_req, res) => {
      const delayMs = sources.loop.delayMs();
      const healthy = delayMs < sources.loop.maxDelayMs;
      sendJson(res, healthy ? 200 : 503, {
        status: healthy ? "ok" : "event loop blocked",
        eventLoopDelayMs: delayMs,
        maxEventLoopDelayMs: sources.loop.maxDelayMs,
      });
    })
    .get("/readyz", async (_req, res) => {
      const report = await sources.readiness.report();
      sendJson(res, report.ready ? 200 : 503, { status: report.ready ? "ready" : "not ready", ...report });
    })
    .get("/metrics", async (_req, res) => {
      const { contentType, body } = await sources.metrics();
      res.writeHead(200, {
        "content-type": contentType,
        "content-length": Buffer.byteLength(body),
        "cache-control": "no-store",
      });
      res.end(body);
    });
}
