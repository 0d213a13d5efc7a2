/**
 * Scenario 5: a poison job under `tend supervise`.
 *
 * `tend supervise` runs two workers of the fleet app, one job at a time each (hang timeout 3 s;
 * smoke 2 s; the default restart intensity of 5 restarts a minute). Normal jobs are enqueued
 * steadily; one job of a kind whose handler busy-loops for ever (it hangs every worker that runs
 * it) is enqueued among them with the default maxAttempts (10). The scenario runs until the poison
 * job is final, or the master exits, or a deadline.
 *
 * Verdict: the master stays up, hung workers are replaced, normal jobs keep completing (the
 * longest stretch without a completion stays under 10 s) and all complete, and the poison job
 * ends discarded with a code of its own (not TEND_E_LEASE_EXPIRED or TEND_E_WORKER_LOST, the
 * codes of one lost attempt) after its lost or hung attempts.
 *
 *   node chaos/scenarios/poison-job.ts [--smoke]
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createApp, createLogger } from "../../src/index.ts";
import { waitFor } from "../../test/support/wait.ts";
import { startEnqueuer, unfinishedJobs } from "../support/enqueuer.ts";
import { auditRun, countCompleted } from "../support/executions.ts";
import { startMaster } from "../support/master.ts";
import { readRecords } from "../support/records.ts";
import { runScenario, sleep } from "../support/scenario.ts";

const PROGRAM = join(import.meta.dirname, "..", "fixtures", "fleet-program.ts");
const FINAL = new Set(["completed", "discarded", "cancelled"]);
const MAX_GAP_MS = 10_000;

await runScenario("poison-job", "sqlite", async (ctx) => {
  const url = `sqlite:${join(ctx.dir, "tend.db")}`;
  const recordDir = join(ctx.dir, "records");
  await mkdir(recordDir);
  const hangTimeout = ctx.smoke ? "2s" : "3s";
  const master = startMaster(ctx, PROGRAM, url, ["--min", "2", "--max", "2", "--hang-timeout", hangTimeout], {
    CHAOS_RECORD_DIR: recordDir,
    // One job per worker: a hung worker holds the poison job alone, so no normal job shares its fate.
    CHAOS_CONCURRENCY: "1",
  });
  const first = new Set((await master.ready(2)).map((w) => w.pid));

  const app = createApp({ database: url, log: createLogger({ level: "warn" }) });
  ctx.defer(() => app.close());
  const enqueuer = startEnqueuer(app, "chaos.work", { everyMs: 100, perTick: 2 });
  ctx.defer(() => enqueuer.stop());
  const { id: poisonId } = await app.enqueue("chaos.spin", { ms: 0 });
  ctx.log(`poison job ${poisonId} enqueued`);

  // Watch completions (E records) for gaps, until the poison job is final or the master is gone.
  const deadline = Date.now() + (ctx.smoke ? 75_000 : 150_000);
  let completed = 0;
  let lastCompletionAt = Date.now();
  let longestGapMs = 0;
  let poison = await app.jobs.get(poisonId);
  const tick = async () => {
    const now = await countCompleted(recordDir);
    if (now > completed) {
      completed = now;
      lastCompletionAt = Date.now();
    }
    longestGapMs = Math.max(longestGapMs, Date.now() - lastCompletionAt);
  };
  while (master.child.running() && !FINAL.has(poison?.state ?? "") && Date.now() < deadline) {
    await sleep(250);
    await tick();
    poison = await app.jobs.get(poisonId);
  }
  ctx.log(
    `poison job ${poison?.state} after ${poison?.attempt} attempt(s); master ${master.child.running() ? "up" : "gone"}`,
  );
  // Normal jobs must go on after the poison job is settled.
  const after = Date.now() + 5_000;
  while (master.child.running() && Date.now() < after) {
    await sleep(250);
    await tick();
  }
  await enqueuer.stop();
  if (master.child.running()) {
    await waitFor(async () => (await unfinishedJobs(app)) <= (FINAL.has(poison?.state ?? "") ? 0 : 1), {
      timeoutMs: 20_000,
      intervalMs: 200,
      message: "normal jobs finished",
    }).catch(() => null);
  }
  const masterUp = master.child.running();
  const status = await master.status();
  const hungWorkers = new Set((await readRecords(recordDir)).filter((r) => r.tag === "F").map((r) => r.pid));
  const replaced = (status?.workers ?? []).filter((w) => !first.has(w.pid)).length;
  if (masterUp) master.child.process.kill("SIGTERM");
  const exit = await master.child.exited;

  const audit = await auditRun(app, recordDir, enqueuer.ids, "chaos.work");
  poison = await app.jobs.get(poisonId);
  const lastCode = poison?.errors.at(-1)?.code ?? null;
  // The codes of one lost attempt (lease lapsed; the supervisor saw the worker die or hang) are
  // not the poison job's own: discarding it for being poison must say so.
  const attemptCodes = new Set(["TEND_E_LEASE_EXPIRED", "TEND_E_WORKER_LOST"]);
  const ownCode =
    poison?.state === "discarded" &&
    lastCode !== null &&
    lastCode.startsWith("TEND_E_") &&
    !attemptCodes.has(lastCode);
  const notes: string[] = [];
  if (!masterUp)
    notes.push(
      `the master exited (${exit.code ?? exit.signal}) while the poison job was around: the fleet went down`,
    );
  if (poison?.state !== "discarded")
    notes.push(`the poison job ended ${poison?.state} after ${poison?.attempt} attempt(s)`);
  else if (!ownCode)
    notes.push(`the poison job was discarded with ${lastCode ?? "no code"}, not a code of its own`);
  if (longestGapMs > MAX_GAP_MS) notes.push(`normal jobs stopped completing for ${longestGapMs} ms`);
  if (audit.lost > 0) notes.push(`${audit.lost} normal job(s) not completed`, ...audit.examples);
  if (hungWorkers.size > 0 && replaced === 0 && masterUp) notes.push("hung workers were not replaced");
  return {
    ok: masterUp && ownCode && longestGapMs <= MAX_GAP_MS && audit.lost === 0 && exit.code === 0,
    masterUp,
    poisonState: poison?.state ?? null,
    poisonAttempts: poison?.attempt ?? null,
    poisonCode: lastCode,
    poisonErrors: (poison?.errors ?? []).map((e) => e.code ?? "-"),
    workersHung: hungWorkers.size,
    restarts: status?.restartsTotal ?? null,
    normalJobs: audit.jobs,
    normalCompleted: audit.completed,
    lost: audit.lost,
    longestGapMs,
    notes,
  };
});
