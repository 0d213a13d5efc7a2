import { TendError } from "../../errors/index.ts";
import { type FailedFile, type Inbox, listFailedFiles, retryFailedFile } from "../../inbox/index.ts";
import type { Router } from "../router.ts";
import { sendJson } from "../router.ts";
import { action } from "./action-routes.ts";
import { api } from "./respond.ts";
import type { AdminSources } from "./sources.ts";

/** The most failed files listed per inbox. */
export const MAX_FAILED_LISTED = 200;

/** One inbox on the inbox page. */
export interface InboxRow {
  name: string;
  dir: string;
  failedDir: string;
  concurrency: number;
  /** Files being processed now. */
  inFlight: number;
  /** Files complete and waiting for a free slot (as of the last scan). */
  backlog: number;
  /** When the oldest waiting file was first seen, or null. */
  oldestWaitingSince: Date | null;
  claimed: number;
  done: number;
  failed: number;
  retried: number;
  /** Files in the failed folder, most recent first (at most MAX_FAILED_LISTED). */
  failedFiles: FailedFile[];
}

/**
 * Reads the inboxes of the serving process; `visible` is false where inbox state is not known
 * (`tend dashboard`: an inbox's state lives in its folders, not in the database).
 */
export async function readInboxes(s: AdminSources): Promise<{ visible: boolean; inboxes: InboxRow[] }> {
  if (s.inboxes === undefined) return { visible: false, inboxes: [] };
  const rows: InboxRow[] = [];
  for (const inbox of s.inboxes()) {
    const o = inbox.options;
    const since = inbox.oldestWaitingSince();
    rows.push({
      name: inbox.name,
      dir: o.dir,
      failedDir: o.failedDir,
      concurrency: o.concurrency,
      inFlight: inbox.counters.inFlight,
      backlog: inbox.counters.backlog,
      oldestWaitingSince: since === null ? null : new Date(since),
      claimed: inbox.counters.claimed,
      done: inbox.counters.done,
      failed: inbox.counters.failed,
      retried: inbox.counters.retried,
      failedFiles: await listFailedFiles(o, MAX_FAILED_LISTED),
    });
  }
  return { visible: true, inboxes: rows };
}

function inboxNamed(s: AdminSources, name: string): Inbox {
  const inbox = s.inboxes?.().find((i) => i.name === name);
  if (inbox === undefined)
    throw new TendError(
      "TEND_E_ADMIN_NOT_FOUND",
      s.inboxes === undefined
        ? "This server runs no inbox: retry a failed file from the dashboard of a process of the app that runs it."
        : `This process runs no inbox named "${name.slice(0, 100)}".`,
      { details: { inbox: name.slice(0, 200) } },
    );
  return inbox;
}

const target = (params: Readonly<Record<string, string>>) =>
  `inbox:${String(params["name"]).slice(0, 100)}/${String(params["file"]).slice(0, 90)}`;

/**
 * The inbox page's routes: `GET /api/inboxes` (backlog, files in flight, failed files with their
 * error) and `POST /api/inboxes/:name/failed/:file/retry` (admin token; audited), which moves a
 * failed file back into its inbox and deletes its sidecar.
 *
 * @example
 * ```ts
 * addInboxRoutes(router, sources);
 * ```
 */
export function addInboxRoutes(router: Router, s: AdminSources): void {
  router.get(
    "/api/inboxes",
    api(async (_req, res) => sendJson(res, 200, await readInboxes(s))),
  );
  router.describe("GET", "/api/inboxes", {
    summary:
      "The serving process's inboxes: backlog, files in flight, counters, failed files with their error (`visible: false` in `tend dashboard`, where inbox state is not in the database).",
  });
  router.route(
    "POST",
    "/api/inboxes/:name/failed/:file/retry",
    action(
      s,
      "inbox.retry",
      async (_req, params) => {
        const inbox = inboxNamed(s, String(params["name"]));
        const file = String(params["file"]);
        const movedAs = await retryFailedFile(inbox.options, file);
        return {
          target: target(params),
          status: 200,
          body: { inbox: inbox.name, file, movedAs },
          detail: { movedAs },
        };
      },
      target,
    ),
  );
  router.describe("POST", "/api/inboxes/:name/failed/:file/retry", {
    summary:
      "Move a failed file back into its inbox (under the name it arrived with) and delete its sidecar.",
    auth: true,
  });
}
