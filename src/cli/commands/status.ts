import { resolve } from "node:path";
import type { Command } from "commander";
import {
  DEFAULT_STATUS_FILE,
  isProcessAlive,
  readStatusFile,
  type SupervisorStatus,
} from "../../supervise/index.ts";
import {
  DEFAULT_DATABASE_URL,
  fleetStore,
  type MasterRecord,
  type ProcessRecord,
} from "../../store/index.ts";
import { withStore } from "../database.ts";
import { renderTable } from "../table.ts";

/** Exit code of `tend status` when the supervisor is not running (as `systemctl status` does). */
export const EXIT_NOT_RUNNING = 3;

function age(iso: string | null, now: number): string {
  if (iso === null) return "-";
  return duration(now - Date.parse(iso));
}

function duration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1_000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
}

/**
 * Renders a status for people.
 *
 * @example
 * ```ts
 * process.stdout.write(renderStatus(await readStatusFile(path), true, Date.now()));
 * ```
 */
export function renderStatus(s: SupervisorStatus, running: boolean, now: number): string {
  const lines: string[] = [];
  if (running) {
    lines.push(
      `supervisor pid ${s.masterPid}: ${s.state}, up ${age(s.startedAt, now)}; program ${s.program}`,
    );
  } else {
    lines.push(
      `The supervisor is NOT running: pid ${s.masterPid} from the status file is gone (last state "${s.state}", ` +
        `last update ${s.updatedAt}, ${age(s.updatedAt, now)} ago). Its workers below are its last known view.`,
    );
  }
  lines.push(
    `workers: ${s.workers.length} (target ${s.desired}, min ${s.min}, max ${s.max}); ` +
      `restarts: ${s.restartsTotal} total, ${s.restartsInWindow} of ${s.maxRestarts} allowed in ${duration(s.restartPeriodMs)}`,
  );
  if (s.queue !== null) {
    lines.push(
      `queue: ${s.queue.available} available, ${s.queue.running} running, ` +
        `${s.queue.enqueuedPerSec.toFixed(1)}/s in, ${s.queue.completedPerSec.toFixed(1)}/s done, oldest ${duration(s.queue.oldestAvailableAgeMs)}`,
    );
  }
  if (s.sparePid !== null && s.sparePid !== undefined)
    lines.push(`spare: pid ${s.sparePid} booted, waiting to replace or add a worker`);
  if (s.lastScale !== null)
    lines.push(
      `last scaling: ${s.lastScale.from} -> ${s.lastScale.to} (${s.lastScale.reason}) at ${s.lastScale.at}`,
    );
  lines.push("");
  lines.push(
    renderTable(
      ["worker", "pid", "state", "uptime", "restarts", "in-flight", "last heartbeat", "last completion"],
      s.workers.map((w) => [
        w.id,
        w.pid,
        w.retiring ? `${w.state} (retiring)` : w.state,
        duration(w.uptimeMs + (now - Date.parse(s.updatedAt))),
        w.restarts,
        w.inFlight,
        w.lastHeartbeatAt === null ? "-" : `${age(w.lastHeartbeatAt, now)} ago`,
        w.lastCompletionAt === null ? "-" : `${age(w.lastCompletionAt, now)} ago`,
      ]),
    ),
  );
  return `${lines.join("\n")}\n`;
}

/**
 * Renders the fleet (every master sharing the database, and every worker of each) for people.
 *
 * @example
 * ```ts
 * process.stdout.write(renderFleet(await fleet.masters(), Date.now()));
 * ```
 */
export function renderFleet(masters: ReadonlyArray<MasterRecord & { alive: boolean }>, now: number): string {
  const live = masters.filter((m) => m.alive);
  const lines = [
    `fleet: ${live.length} live master(s), ${live.reduce((n, m) => n + m.workers.length, 0)} worker(s)` +
      (masters.length > live.length ? `; ${masters.length - live.length} dead (lease lapsed)` : ""),
    "",
    renderTable(
      ["master", "host", "pid", "state", "workers", "target", "min", "max", "last heartbeat", "up"],
      masters.map((m) => [
        m.id,
        m.host,
        m.pid,
        m.alive ? "alive" : "DEAD (lease lapsed)",
        m.workers.length,
        m.desired,
        m.min,
        m.max,
        `${duration(now - m.heartbeatAt.getTime())} ago`,
        duration(now - m.startedAt.getTime()),
      ]),
    ),
    "",
    renderTable(
      ["master", "worker", "pid", "state", "in-flight"],
      masters.flatMap((m) => m.workers.map((w) => [m.id, w.id, w.pid, w.state, w.inFlight])),
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Renders the process registry (every tend process with a heartbeat in the database) for people.
 *
 * @example
 * ```ts
 * process.stdout.write(renderProcesses(await store.processes.list(), Date.now()));
 * ```
 */
export function renderProcesses(processes: readonly ProcessRecord[], now: number): string {
  const live = processes.filter((p) => p.alive);
  const mib = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MiB`;
  const lines = [
    `processes: ${live.length} alive, ${live.reduce((n, p) => n + p.inFlight, 0)} job(s) in flight` +
      (processes.length > live.length
        ? `; ${processes.length - live.length} gone (no heartbeat within their lease)`
        : ""),
  ];
  if (processes.length > 0) {
    lines.push(
      "",
      renderTable(
        [
          "process",
          "host",
          "pid",
          "state",
          "master",
          "queues",
          "in-flight",
          "rss",
          "last heartbeat",
          "up",
          "version",
        ],
        processes.map((p) => [
          p.id,
          p.host,
          p.pid,
          p.alive ? "alive" : "GONE (lease lapsed)",
          p.masterPid ?? "-",
          p.queues.join(",") || "-",
          `${p.inFlight}/${p.concurrency}`,
          mib(p.rssBytes),
          `${duration(now - p.heartbeatAt.getTime())} ago`,
          duration(now - p.startedAt.getTime()),
          p.version,
        ]),
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Pure: the database `tend status` reads, or null for its status file: `-d <url>` names it; `-d`
 * alone takes TEND_DATABASE_URL, else the default. Without `-d` the command reads the supervisor's
 * status file even when TEND_DATABASE_URL is set: that variable is in a service's environment, and
 * taking it there would turn `tend status` (the workers of this machine, exit code 3 when the
 * supervisor is down) into the listing of the database's processes.
 *
 * @example
 * ```ts
 * statusDatabase(true, { TEND_DATABASE_URL: "postgres://db/app" }); // "postgres://db/app"
 * statusDatabase(undefined, { TEND_DATABASE_URL: "postgres://db/app" }); // null
 * ```
 */
export function statusDatabase(flag: string | boolean | undefined, env: NodeJS.ProcessEnv): string | null {
  if (flag === undefined || flag === false) return null;
  return flag === true ? (env["TEND_DATABASE_URL"] ?? DEFAULT_DATABASE_URL) : flag;
}

/**
 * `tend status`: prints the supervisor's view of its workers from its status file, and says
 * clearly (exit code 3) when the supervisor is not running; with `-d`, every tend process
 * registered in the database.
 *
 * @example
 * ```sh
 * tend status --status-file /srv/app/var/tend-supervisor.json
 * tend status -d   # the database of TEND_DATABASE_URL
 * ```
 */
export function register(program: Command): void {
  program
    .command("status")
    .description(
      "show the supervisor's workers (pid, state, uptime, restarts, in-flight, last heartbeat); with --database, every tend process registered in the database and every master of the fleet",
    )
    .option("--status-file <path>", "the supervisor's status file", DEFAULT_STATUS_FILE)
    .option("--json", "print the status file's JSON with a `running` field")
    .option(
      "-d, --database [url]",
      `show every tend process registered in this database (any machine) and, on PostgreSQL, every master sharing it with its workers; -d alone: env TEND_DATABASE_URL, else ${DEFAULT_DATABASE_URL} (without -d, the status file is read even when TEND_DATABASE_URL is set)`,
    )
    .action(async (flags: { statusFile: string; json?: boolean; database?: string | boolean }) => {
      const database = statusDatabase(flags.database, process.env);
      if (database !== null) {
        const { masters, processes } = await withStore(database, async (store) => {
          const fleet = await fleetStore(store);
          return {
            masters: fleet === null ? [] : await fleet.masters(),
            processes: await store.processes.list(),
          };
        });
        process.stdout.write(
          flags.json === true
            ? `${JSON.stringify({ masters, processes })}\n`
            : `${masters.length > 0 ? `${renderFleet(masters, Date.now())}\n` : ""}${renderProcesses(processes, Date.now())}`,
        );
        return;
      }
      const status = await readStatusFile(resolve(flags.statusFile));
      const running = isProcessAlive(status.masterPid);
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify({ ...status, running })}\n`);
      } else {
        process.stdout.write(renderStatus(status, running, Date.now()));
      }
      if (!running) process.exitCode = EXIT_NOT_RUNNING;
    });
}
