import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { invalidArgument, TendError } from "../../errors/index.ts";
import {
  addAdminApi,
  addDashboard,
  type AdminSources,
  checkHttpOptions,
  listenHttp,
  parseHttpAddress,
  Router,
  sendJson,
} from "../../http/index.ts";
import { Jobs } from "../../jobs/index.ts";
import { main } from "../../lifecycle/index.ts";
import { createLogger } from "../../log/index.ts";
import { openStore } from "../../store/index.ts";
import { databaseOption } from "../database.ts";

interface DashboardFlags {
  database: string;
  listen: string;
  adminTokenFile?: string;
  hidePayloads?: boolean;
  allowedHost?: string[];
}

/** The address `tend dashboard` listens on unless `--listen` says otherwise. */
export const DEFAULT_DASHBOARD_ADDRESS = "127.0.0.1:9470";

/** Reads the admin token from a file (its first line, trimmed); TEND_E_INVALID_HTTP_OPTIONS when unreadable. */
async function readToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new TendError(
      "TEND_E_INVALID_HTTP_OPTIONS",
      `--admin-token-file ${path} cannot be read: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const token = text.split("\n")[0]!.trim();
  if (token === "")
    throw invalidArgument(
      "TEND_E_INVALID_HTTP_OPTIONS",
      "--admin-token-file",
      path,
      "a file whose first line is the token",
    );
  return token;
}

/**
 * `tend dashboard --database <url> [--listen 127.0.0.1:9470] [--admin-token-file F] [--hide-payloads]`:
 * serves the dashboard (`/ui`) and the admin API (`/api`) against any tend database, SQLite or
 * PostgreSQL, without the service's own code: read-only unless a token file is given. The
 * database must exist and be migrated (nothing is created or migrated). Stops on SIGINT/SIGTERM.
 */
export function register(program: Command): void {
  program
    .command("dashboard")
    .description("serve the dashboard (/ui) and admin API (/api) against a tend database")
    .addOption(databaseOption())
    .option("--listen <address>", "PORT or HOST:PORT to listen on", DEFAULT_DASHBOARD_ADDRESS)
    .option("--admin-token-file <path>", "file holding the admin token; without it everything is read-only")
    .option("--hide-payloads", "never show nor return jobs' payloads and results")
    .option(
      "--allowed-host <name>",
      "a host name (besides localhost) that requests may name while listening on a loopback address; repeat for several",
      (name: string, previous: string[] | undefined) => [...(previous ?? []), name],
    )
    .action(async (flags: DashboardFlags) => {
      const adminToken =
        flags.adminTokenFile === undefined ? undefined : await readToken(flags.adminTokenFile);
      const settings = checkHttpOptions({
        ...parseHttpAddress(flags.listen, "--listen"),
        dashboard: flags.hidePayloads === true ? { hidePayloads: true } : true,
        ...(adminToken === undefined ? {} : { adminToken }),
        ...(flags.allowedHost === undefined ? {} : { allowedHosts: flags.allowedHost }),
      });
      const log = createLogger({ destination: "stderr" });
      const store = await openStore(flags.database, { create: false, migrate: "verify", log });
      // Enqueue over the API with enqueue's own validation; no kind is defined here, so payloads
      // are not checked against a schema (the service's own processes do that when they run them).
      const jobs = new Jobs(() => Promise.resolve(store), { log, queues: {} });
      const sources: AdminSources = {
        store,
        enqueue: (kind, payload, options) => jobs.enqueue(kind, payload, options),
        convergers: () => [],
        adminToken: settings.adminToken,
        hidePayloads: settings.hidePayloads,
      };
      const router = new Router().get("/", (_req, res) => {
        res.writeHead(302, { location: "/ui" });
        res.end();
      });
      router.get("/healthz", (_req, res) => sendJson(res, 200, { status: "ok" }));
      addDashboard(addAdminApi(router, sources), sources);
      const server = await listenHttp(settings, router, log).catch(async (err: unknown) => {
        await store.close();
        throw err;
      });
      process.stderr.write(
        `tend dashboard: ${server.url}/ui on ${store.driver} (${store.url}); ` +
          `${settings.adminToken === null ? "read-only" : "actions need the admin token"}; Ctrl-C stops it\n`,
      );
      const task = server.task({ budgetMs: 5_000 });
      await main(
        (manager) => {
          manager.run({
            name: "dashboard",
            run: async (signal) => {
              try {
                await task.run(signal);
              } finally {
                await store.close();
              }
            },
          });
        },
        { log, shutdownTimeout: "10s" },
      );
    });
}
