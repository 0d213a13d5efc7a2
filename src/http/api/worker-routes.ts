import { fleetStore, type MasterRecord, type ProcessRecord } from "../../store/index.ts";
import type { Router } from "../router.ts";
import { sendJson } from "../router.ts";
import { api } from "./respond.ts";
import type { AdminSources } from "./sources.ts";

/** A supervisor master as the workers page shows it. */
export interface MasterRow {
  host: string;
  pid: number;
  program: string | null;
  /** Its workers' count as it wants them now, or null when not recorded (SQLite). */
  desired: number | null;
  min: number | null;
  max: number | null;
  alive: boolean;
  heartbeatAt: Date | null;
  /** Its workers registered in the process registry. */
  workers: ProcessRecord[];
  /**
   * Restarts of each worker's slot by worker pid: what each worker registered at its start (both
   * drivers), overridden by what the master reports in the fleet table (PostgreSQL).
   */
  restarts: Record<number, number>;
}

/**
 * Pure: supervisor masters with their workers: from the fleet table (PostgreSQL) when given,
 * else from the workers' `masterPid` (one machine per master, grouped by host and pid).
 *
 * @example
 * ```ts
 * mastersOf(await store.processes.list(), await fleet?.masters() ?? null);
 * ```
 */
export function mastersOf(
  processes: readonly ProcessRecord[],
  fleet: ReadonlyArray<MasterRecord & { alive: boolean }> | null,
): MasterRow[] {
  const workersOf = (host: string, pid: number) =>
    processes.filter((p) => p.host === host && p.masterPid === pid);
  const registered = (workers: readonly ProcessRecord[]): Record<number, number> =>
    Object.fromEntries(workers.filter((w) => w.restarts !== null).map((w) => [w.pid, w.restarts!]));
  if (fleet !== null && fleet.length > 0)
    return fleet.map((m) => ({
      host: m.host,
      pid: m.pid,
      program: m.program,
      desired: m.desired,
      min: m.min,
      max: m.max,
      alive: m.alive,
      heartbeatAt: m.heartbeatAt,
      workers: workersOf(m.host, m.pid),
      restarts: {
        ...registered(workersOf(m.host, m.pid)),
        ...Object.fromEntries(
          m.workers.filter((w) => typeof w.restarts === "number").map((w) => [w.pid, w.restarts!]),
        ),
      },
    }));
  const seen = new Map<string, MasterRow>();
  for (const p of processes) {
    if (p.masterPid === null) continue;
    const key = `${p.host}:${p.masterPid}`;
    if (!seen.has(key))
      seen.set(key, {
        host: p.host,
        pid: p.masterPid,
        program: p.program,
        desired: null,
        min: null,
        max: null,
        alive: processes.some((w) => w.host === p.host && w.masterPid === p.masterPid && w.alive),
        heartbeatAt: null,
        workers: workersOf(p.host, p.masterPid),
        restarts: registered(workersOf(p.host, p.masterPid)),
      });
  }
  return [...seen.values()];
}

/** Reads the workers page: every registered process, and the supervisor masters with their workers. */
export async function readWorkers(
  s: AdminSources,
): Promise<{ workers: ProcessRecord[]; masters: MasterRow[]; fleet: boolean }> {
  const [workers, fleet] = await Promise.all([s.store.processes.list(), fleetStore(s.store)]);
  const masters = fleet === null ? null : await fleet.masters();
  return { workers, masters: mastersOf(workers, masters), fleet: fleet !== null };
}

/**
 * `GET /api/workers/masters`: the `tend supervise` masters with their workers (the fleet table on
 * PostgreSQL; on SQLite, the registered workers grouped by their master's pid).
 *
 * @example
 * ```ts
 * addWorkerRoutes(router, sources);
 * ```
 */
export function addWorkerRoutes(router: Router, s: AdminSources): void {
  router.get(
    "/api/workers/masters",
    api(async (_req, res) => {
      const { masters, fleet } = await readWorkers(s);
      sendJson(res, 200, { masters, fleet });
    }),
  );
  router.describe("GET", "/api/workers/masters", {
    summary:
      "Supervisor masters (`tend supervise`) with their workers: the fleet table on PostgreSQL, else workers grouped by their master's pid.",
  });
}
