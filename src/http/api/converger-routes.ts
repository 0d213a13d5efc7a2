import { clearParkedKeys } from "../../converge/index.ts";
import { TendError } from "../../errors/index.ts";
import type { LeaseRecord, TerminalKey } from "../../store/index.ts";
import type { Router } from "../router.ts";
import { sendJson } from "../router.ts";
import { action } from "./action-routes.ts";
import { api } from "./respond.ts";
import type { AdminSources } from "./sources.ts";

/** One converger on the convergers page: its lease from the database, and this process's view of it. */
export interface ConvergerRow {
  name: string;
  /** The live lease's holder (the leader), or null when no process leads it now. */
  leader: string | null;
  /** The lease's epoch (the last one when no process leads it), or null when never leased. */
  epoch: number | null;
  leaseExpiresAt: Date | null;
  /** When the current (or last) epoch began. */
  leaderSince: Date | null;
  /** Whether this server's process defines it (then the fields below are known). */
  here: boolean;
  /** Whether this process leads it. */
  leaderHere: boolean;
  /** The sweep interval (ms), known here only. */
  everyMs: number | null;
  /** When this process last finished a sweep as leader (ms since epoch), or null. */
  lastSweepAt: Date | null;
  /** How long ago that was beyond the interval (ms; 0 when on time), or null when unknown. */
  lagMs: number | null;
  /** Its parked keys. */
  parked: number;
  /** Keys waiting out a backoff after failing, known where this process leads it (else empty). */
  backingOff: Array<{ key: string; failures: number; dueAt: Date }>;
}

/**
 * Pure: the convergers page's rows from the stored leases and parked keys and the convergers of
 * this process, by name.
 *
 * @example
 * ```ts
 * convergerRows(await store.converge.listLeases(), await store.converge.listTerminal(), app.convergers(), Date.now());
 * ```
 */
export function convergerRows(
  leases: readonly LeaseRecord[],
  parked: readonly TerminalKey[],
  local: ReturnType<AdminSources["convergers"]>,
  now: number,
): ConvergerRow[] {
  const names = new Set<string>([...leases.map((l) => l.name), ...local.map((c) => c.definition.name)]);
  for (const p of parked) names.add(p.converger);
  return [...names].sort().map((name) => {
    const lease = leases.find((l) => l.name === name);
    const c = local.find((x) => x.definition.name === name);
    const m = c?.metrics();
    const lastSweepAt = m?.lastSweepAt ?? null;
    const everyMs = c?.definition.everyMs ?? null;
    return {
      name,
      leader: lease?.live === true ? lease.holder : null,
      epoch: lease?.epoch ?? null,
      leaseExpiresAt: lease?.expiresAt ?? null,
      leaderSince: lease?.acquiredAt ?? null,
      here: c !== undefined,
      leaderHere: c?.isLeader() ?? false,
      everyMs,
      lastSweepAt: lastSweepAt === null ? null : new Date(lastSweepAt),
      lagMs:
        lastSweepAt === null || everyMs === null || c?.isLeader() !== true
          ? null
          : Math.max(0, now - lastSweepAt - everyMs),
      parked: parked.filter((p) => p.converger === name).length,
      backingOff: (c?.backingOff() ?? []).map((b) => ({ ...b, dueAt: new Date(b.dueAt) })),
    };
  });
}

/** Reads the convergers page's rows and parked keys from the sources. */
export async function readConvergers(
  s: AdminSources,
): Promise<{ convergers: ConvergerRow[]; parked: TerminalKey[] }> {
  const [leases, parked] = await Promise.all([
    s.store.converge.listLeases(),
    s.store.converge.listTerminal(),
  ]);
  return { convergers: convergerRows(leases, parked, s.convergers(), Date.now()), parked };
}

async function knownConverger(s: AdminSources, name: string): Promise<void> {
  if (s.convergers().some((c) => c.definition.name === name)) return;
  if ((await s.store.converge.listLeases()).some((l) => l.name === name)) return;
  throw new TendError(
    "TEND_E_ADMIN_NOT_FOUND",
    `There is no converger "${name.slice(0, 100)}" (none defined here, and no process ever took its lease).`,
    { details: { converger: name.slice(0, 200) } },
  );
}

const target = (params: Readonly<Record<string, string>>) =>
  `converger:${String(params["name"]).slice(0, 100)}${params["key"] === undefined ? "" : `/${params["key"].slice(0, 90)}`}`;

/**
 * The convergers page's routes: `GET /api/convergers/leases` (every converger's leader, epoch,
 * last sweep, lag and parked count), and the actions (admin token; audited):
 * `POST /api/convergers/:name/sweep` asks its leader, in whichever process, to sweep now (through
 * the store); `POST /api/convergers/:name/keys/:key/run` asks it to run one key now (a key
 * backing off); `POST /api/convergers/:name/keys/:key/retry` clears one parked key and
 * `POST /api/convergers/:name/parked/retry` all of them, which the leader then runs again at once.
 *
 * @example
 * ```ts
 * addConvergerRoutes(router, sources);
 * ```
 */
export function addConvergerRoutes(router: Router, s: AdminSources): void {
  router.get(
    "/api/convergers/leases",
    api(async (_req, res) => sendJson(res, 200, { convergers: (await readConvergers(s)).convergers })),
  );
  router.describe("GET", "/api/convergers/leases", {
    summary:
      "Every converger with a lease or defined here: leader and epoch (from the database), last sweep and lag (known to its own processes), parked keys.",
  });
  router.route(
    "POST",
    "/api/convergers/:name/sweep",
    action(
      s,
      "converger.sweep",
      async (_req, params) => {
        const name = String(params["name"]);
        await knownConverger(s, name);
        await s.store.converge.requestSweep(name);
        return {
          target: `converger:${name.slice(0, 100)}`,
          status: 202,
          body: { converger: name, requested: true },
        };
      },
      target,
    ),
  );
  router.describe("POST", "/api/convergers/:name/sweep", {
    summary: "Ask the converger's leader, in whichever process, to sweep now (through the database).",
    auth: true,
  });
  router.route(
    "POST",
    "/api/convergers/:name/keys/:key/retry",
    action(
      s,
      "converger.key.retry",
      async (_req, params) => {
        const name = String(params["name"]);
        const key = String(params["key"]);
        const cleared = await clearParkedKeys(s.store, name, key);
        if (cleared === 0)
          throw new TendError(
            "TEND_E_ADMIN_NOT_FOUND",
            `Converger "${name.slice(0, 100)}" has no parked key "${key.slice(0, 100)}".`,
            { details: { converger: name.slice(0, 200), key: key.slice(0, 200) } },
          );
        return {
          target: `converger:${name.slice(0, 100)}/${key.slice(0, 90)}`,
          status: 200,
          body: { converger: name, key, cleared },
        };
      },
      target,
    ),
  );
  router.describe("POST", "/api/convergers/:name/keys/:key/retry", {
    summary: "Clear a parked key: the converger's leader runs it again at once.",
    auth: true,
  });
  router.route(
    "POST",
    "/api/convergers/:name/keys/:key/run",
    action(
      s,
      "converger.key.run",
      async (_req, params) => {
        const name = String(params["name"]);
        const key = String(params["key"]);
        await knownConverger(s, name);
        await s.store.converge.requestSweep(name, key);
        return {
          target: `converger:${name.slice(0, 100)}/${key.slice(0, 90)}`,
          status: 202,
          body: { converger: name, key, requested: true },
        };
      },
      target,
    ),
  );
  router.describe("POST", "/api/convergers/:name/keys/:key/run", {
    summary:
      "Ask the converger's leader, in whichever process, to run one key now (a key backing off after failures need not wait out its delay).",
    auth: true,
  });
  router.route(
    "POST",
    "/api/convergers/:name/parked/retry",
    action(
      s,
      "converger.parked.retry",
      async (_req, params) => {
        const name = String(params["name"]);
        const cleared = await clearParkedKeys(s.store, name, null);
        return {
          target: `converger:${name.slice(0, 100)}`,
          status: 200,
          body: { converger: name, cleared },
          detail: { cleared },
        };
      },
      target,
    ),
  );
  router.describe("POST", "/api/convergers/:name/parked/retry", {
    summary: "Clear every parked key of a converger: its leader runs them again at once.",
    auth: true,
  });
}
