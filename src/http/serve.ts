import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Task } from "../lifecycle/index.ts";
import { EventLoopWatch } from "./health.ts";
import type { HttpSettings } from "./options.ts";
import type { HttpServer } from "./server.ts";
import { Readiness } from "./readiness.ts";
import type { Router } from "./router.ts";
import { observedRouter } from "./routes.ts";
import { listenHttp } from "./server.ts";

/** What {@link serveObservability} needs. */
export interface ObservabilityServerOptions {
  settings: HttpSettings;
  registry: Registry;
  /** Why shutdown began, or undefined while running (the manager's `shutdownReason`). */
  shutdownReason(): string | undefined;
  /** The store check of `/readyz` (see {@link Readiness}). */
  checkStore(): Promise<void>;
  /** While true after shutdown began, keep answering (the rest of the program drains). */
  serveWhile(): boolean;
  /** The exposition of `/metrics` (default: `registry`'s). */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The longest the server waits at shutdown (ms). */
  budgetMs: number;
  log: Logger;
  /** Adds more routes (the admin API, the dashboard) before the server listens. */
  extend?: (router: Router) => void;
}

/**
 * Listens with `/healthz`, `/readyz` and `/metrics` and returns the server and its Task (run it
 * under the program's Manager). Rejects with TEND_E_HTTP_LISTEN when it cannot listen.
 *
 * @example
 * ```ts
 * const { task } = await serveObservability({ settings, registry, shutdownReason: () => m.shutdownReason, checkStore, serveWhile, budgetMs: 5000, log });
 * manager.run(task);
 * ```
 */
export async function serveObservability(
  options: ObservabilityServerOptions,
): Promise<{ server: HttpServer; task: Task }> {
  const loop = new EventLoopWatch({ maxDelayMs: options.settings.maxEventLoopDelayMs });
  const readiness = new Readiness({ shutdownReason: options.shutdownReason, checkStore: options.checkStore });
  const registry = options.registry;
  const router = observedRouter({
    loop,
    readiness,
    metrics:
      options.metrics ??
      (async () => ({ contentType: registry.contentType, body: await registry.metrics() })),
  });
  options.extend?.(router);
  const server = await listenHttp(options.settings, router, options.log);
  loop.start();
  const inner = server.task({ serveWhile: options.serveWhile, budgetMs: options.budgetMs });
  return {
    server,
    task: {
      name: inner.name,
      run: async (signal) => {
        try {
          await inner.run(signal);
        } finally {
          loop.stop();
        }
      },
    },
  };
}
