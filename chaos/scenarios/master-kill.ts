/**
 * Scenario 3: the master SIGKILLed.
 *
 * `tend supervise` runs three workers of the fleet app (concurrency 1): one idle, one busy (a job
 * waiting asynchronously for ten minutes) and one frozen (a job whose handler busy-loops, so its
 * event loop never turns again), plus the master's booted spare. The hang timeout is raised so
 * that the master does not kill the frozen worker itself. Then the master is SIGKILLed.
 *
 * Verdict: every process the master had started (each worker and the spare, found in its status
 * file and in /proc) is gone within 3 s. How long each took is reported; survivors are polled for
 * a while longer to say how long they lived, then killed.
 *
 *   node chaos/scenarios/master-kill.ts [--smoke]
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createApp, createLogger } from "../../src/index.ts";
import { waitFor } from "../../test/support/wait.ts";
import { startMaster } from "../support/master.ts";
import { descendants, pidAlive } from "../support/processes.ts";
import { readRecords } from "../support/records.ts";
import { runScenario, sleep } from "../support/scenario.ts";

const PROGRAM = join(import.meta.dirname, "..", "fixtures", "fleet-program.ts");
const LIMIT_MS = 3_000;

await runScenario("master-kill", "sqlite", async (ctx) => {
  const url = `sqlite:${join(ctx.dir, "tend.db")}`;
  const recordDir = join(ctx.dir, "records");
  await mkdir(recordDir);
  const master = startMaster(
    ctx,
    PROGRAM,
    url,
    ["--min", "3", "--max", "3", "--hang-timeout", "5m", "--stall-timeout", "1h"],
    { CHAOS_RECORD_DIR: recordDir, CHAOS_CONCURRENCY: "1" },
  );
  const workers = await master.ready(3);
  await waitFor(async () => (await master.status())?.sparePid != null, {
    timeoutMs: 20_000,
    message: "the spare booted",
  });

  const app = createApp({ database: url, log: createLogger({ level: "warn" }) });
  ctx.defer(() => app.close());
  await app.enqueue("chaos.sleep", { ms: 600_000 });
  await app.enqueue("chaos.spin", { ms: 0 });
  const roles = await waitFor(
    async () => {
      const records = await readRecords(recordDir);
      const busy = records.find((r) => r.tag === "B")?.pid;
      const frozen = records.find((r) => r.tag === "F")?.pid;
      return busy !== undefined && frozen !== undefined ? { busy, frozen } : null;
    },
    { timeoutMs: 20_000, intervalMs: 50, message: "one worker busy and one frozen" },
  );
  // Wait until the master sees the frozen worker miss heartbeats: its loop is really stuck.
  const status = await waitFor(
    async () => {
      const s = await master.status();
      const beat = s?.workers.find((w) => w.pid === roles.frozen)?.lastHeartbeatAt;
      return beat != null && Date.now() - Date.parse(beat) > 1_500 ? s : null;
    },
    { timeoutMs: 20_000, intervalMs: 100, message: "the frozen worker missing heartbeats" },
  );
  const role = new Map<number, string>();
  for (const w of status.workers.length > 0 ? status.workers : workers) {
    role.set(w.pid, w.pid === roles.busy ? "busy" : w.pid === roles.frozen ? "frozen" : "idle");
  }
  if (status.sparePid != null) role.set(status.sparePid, "spare");
  for (const pid of descendants(master.child.pid)) {
    if (!role.has(pid)) role.set(pid, "other");
    ctx.procs.adopt(pid);
  }
  const roleCounts = [...role.values()].sort().join(",");
  ctx.log(`killing the master ${master.child.pid}; its processes: ${roleCounts}`);

  const killedAt = Date.now();
  await ctx.procs.kill(master.child);
  const goneAfter = new Map<number, number>();
  const watchUntil = killedAt + LIMIT_MS + (ctx.smoke ? 2_000 : 10_000);
  while (goneAfter.size < role.size && Date.now() < watchUntil) {
    for (const pid of role.keys()) {
      if (!goneAfter.has(pid) && !pidAlive(pid)) goneAfter.set(pid, Date.now() - killedAt);
    }
    await sleep(25);
  }
  const report: Record<string, number | string> = {};
  const notes: string[] = [];
  let slowest = 0;
  for (const [pid, what] of role) {
    const ms = goneAfter.get(pid);
    const key = report[what] === undefined ? what : `${what}-${pid}`;
    report[key] = ms ?? `alive after ${watchUntil - killedAt} ms`;
    if (ms === undefined || ms > LIMIT_MS) {
      notes.push(
        `${what} worker ${pid} ${ms === undefined ? `still alive ${watchUntil - killedAt} ms after the master was killed` : `took ${ms} ms to go`}`,
      );
    }
    slowest = Math.max(slowest, ms ?? Number.POSITIVE_INFINITY);
  }
  const within = [...role.keys()].filter((pid) => (goneAfter.get(pid) ?? Infinity) <= LIMIT_MS).length;
  return {
    ok: within === role.size && role.size >= 4,
    processes: role.size,
    goneWithin3s: within,
    slowestMs: Number.isFinite(slowest) ? slowest : null,
    goneAfterMs: report,
    notes,
  };
});
