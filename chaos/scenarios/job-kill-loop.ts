/**
 * Scenario 1: job workers SIGKILLed at random every 0.5 s.
 *
 * 20,000 jobs (smoke 1,000) are enqueued up front; three worker processes (fixtures/job-worker.ts:
 * concurrency 10, prefetch 100, lease 3 s, maxAttempts 5 and maxLost 5, handlers of 10-50 ms) work them while one
 * of them, picked at random, is SIGKILLed every 0.5 s and started again at once. Kills stop when
 * no job is left to run; the workers then stop gracefully and the job rows (public API) are
 * compared with the execution records the handlers wrote.
 *
 * Verdict: 0 lost (every acknowledged job completed, with a recorded execution), 0 stuck, no job
 * discarded before maxAttempts of its attempts reached the handler, duplicate executions within
 * kills x (concurrency + prefetch), and attempts spent on jobs that never reached their handler
 * within kills x concurrency. That last bound is what an outside observer can tell: a job claimed
 * for a free slot may be killed between its claim and its handler's first line (at most
 * `concurrency` such jobs per kill); anything beyond must be jobs that were only claimed ahead.
 * And live workers (the ones not killed) lose at most one lease per 1,000 jobs ("lost the lease of
 * a running job" in their logs): a worker whose loop runs renews every second, so a loss means
 * its loop stalled for 2 s or more, which a loaded machine may cause now and then, not by the
 * hundred.
 *
 * Then a claimed-ahead probe, without that noise: one worker with a single slot (held by a job
 * that blocks) claims 50 jobs ahead and is SIGKILLed while they wait in its buffer; once they
 * have run on another worker, none of them may have spent an attempt (they never started).
 *
 *   node chaos/scenarios/job-kill-loop.ts --driver sqlite|postgres [--smoke]
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createApp, createLogger } from "../../src/index.ts";
import { waitFor } from "../../test/support/wait.ts";
import { scenarioDatabase } from "../support/database.ts";
import { unfinishedJobs } from "../support/enqueuer.ts";
import { auditRun, readExecutions, workerReady } from "../support/executions.ts";
import { killLoop } from "../support/kill-loop.ts";
import { countLogLines } from "../support/logs.ts";
import type { Child } from "../support/processes.ts";
import { runScenario, sleep } from "../support/scenario.ts";

const WORKER = join(import.meta.dirname, "..", "fixtures", "job-worker.ts");
const KIND = "chaos.work";

await runScenario("job-kill-loop", "sqlite", async (ctx) => {
  const jobCount = ctx.smoke ? 1_000 : 20_000;
  const workers = 3;
  const concurrency = 10;
  const prefetch = 100;
  const leaseMs = 3_000;
  const maxAttempts = 5;
  // A worker killed every 0.5 s is exactly what a poison job looks like from the store (its
  // worker died while running it): a fresh worker claims the rescued jobs first and may be killed
  // again before they finish. This scenario tests at-least-once under kills, not the poison rule
  // (the poison-job scenario does), so the jobs tolerate as many lost attempts as they have attempts.
  const maxLost = maxAttempts;
  const killEveryMs = 500;
  const url = await scenarioDatabase(ctx);
  const recordDir = join(ctx.dir, "records");
  await mkdir(recordDir);

  const app = createApp({ database: url, log: createLogger({ level: "warn" }) });
  ctx.defer(() => app.close());
  const ids = new Set<string>();
  for (let i = 0; i < jobCount; i += 1_000) {
    const items = Array.from({ length: Math.min(1_000, jobCount - i) }, (_, k) => ({
      kind: KIND,
      payload: { n: i + k },
      maxAttempts,
      maxLost,
    }));
    for (const r of await app.enqueueMany(items)) ids.add(r.id);
  }
  ctx.log(`enqueued ${ids.size} jobs on ${ctx.driver}`);

  const start = (env: Record<string, string> = {}): Child =>
    ctx.procs.spawn("worker", WORKER, {
      env: {
        TEND_DATABASE_URL: url,
        CHAOS_RECORD_DIR: recordDir,
        CHAOS_CONCURRENCY: String(concurrency),
        CHAOS_PREFETCH: String(prefetch),
        CHAOS_LEASE_MS: String(leaseMs),
        CHAOS_MAX_ATTEMPTS: String(maxAttempts),
        CHAOS_WORK_MS: "10-50",
        ...env,
      },
    });
  const stopWorker = async (w: Child) => {
    // A SIGTERM before the app installed its handlers would kill a booting worker outright.
    await waitFor(() => workerReady(recordDir, w.pid), {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: "the worker up before its SIGTERM",
    });
    await ctx.procs.kill(w, "SIGTERM");
    return w.exited;
  };

  const fleet = Array.from({ length: workers }, () => start());
  const { kills, ms: killingMs } = await killLoop(ctx, fleet, () => start(), {
    everyMs: killEveryMs,
    deadlineMs: ctx.smoke ? 60_000 : 900_000,
    remaining: () => unfinishedJobs(app),
    what: "jobs",
  });
  let left = await unfinishedJobs(app);
  // Without kills, what is left must finish within a lease plus the rescue interval (and a margin).
  const graceEnd = Date.now() + leaseMs + 5_000 + 10_000;
  while (left > 0 && Date.now() < graceEnd) {
    await sleep(250);
    left = await unfinishedJobs(app);
  }
  const exitCodes = await Promise.all(fleet.map(stopWorker));
  const audit = await auditRun(app, recordDir, ids, KIND);

  // The claimed-ahead probe: one worker with a single slot, held by a blocking job, claims PROBE
  // jobs ahead and is SIGKILLed while they wait in its buffer. None of them ever started, so
  // none may have spent an attempt once they have run elsewhere.
  const probeCount = 50;
  const blocker = await app.enqueue("chaos.block", { ms: 600_000 }, { priority: -1, maxAttempts });
  const probeIds = (
    await app.enqueueMany(Array.from({ length: probeCount }, () => ({ kind: "chaos.probe", maxAttempts })))
  ).map((r) => r.id);
  const holder = start({ CHAOS_CONCURRENCY: "1", CHAOS_PREFETCH: String(prefetch) });
  await waitFor(
    async () => {
      if (!(await readExecutions(recordDir)).has(blocker.id)) return false;
      // Claimed: no longer available to other workers (whatever state a claim ahead shows as).
      const probes = await Promise.all(probeIds.map((id) => app.jobs.get(id)));
      return probes.every((j) => j !== null && j.state !== "available");
    },
    { timeoutMs: 30_000, intervalMs: 100, message: "the blocker running and the probe jobs claimed ahead" },
  );
  await ctx.procs.kill(holder);
  await app.jobs.cancel(blocker.id);
  const finisher = start({ CHAOS_PREFETCH: "0" });
  await waitFor(
    async () =>
      (await Promise.all(probeIds.map((id) => app.jobs.get(id)))).every((j) => j?.state === "completed"),
    { timeoutMs: leaseMs + 30_000, intervalMs: 250, message: "the probe jobs completed after the kill" },
  ).catch(() => null);
  exitCodes.push(await stopWorker(finisher));
  const probeExecutions = await readExecutions(recordDir);
  let probeAttemptsSpent = 0;
  let probeUnfinished = 0;
  for (const id of probeIds) {
    const job = await app.jobs.get(id);
    if (job?.state !== "completed") probeUnfinished++;
    probeAttemptsSpent += Math.max(
      0,
      (job?.attempt ?? 0) - (probeExecutions.get(id)?.startedAttempts.size ?? 0),
    );
  }
  ctx.log(
    `claimed-ahead probe: ${probeAttemptsSpent} attempt(s) spent by ${probeCount} jobs that never started`,
  );
  const duplicateBound = kills * (concurrency + prefetch);
  const leaseLossWarnings = await countLogLines(ctx.dir, "worker", "lost the lease of a running job");
  const notes: string[] = [];
  if (audit.lost > 0) notes.push(`${audit.lost} job(s) lost`);
  if (audit.stuck > 0)
    notes.push(`${audit.stuck} job(s) stuck (not finished ${leaseMs + 15_000} ms after the kills)`);
  if (audit.discardedEarly > 0) {
    notes.push(
      `${audit.discardedEarly} job(s) discarded although fewer than ${maxAttempts} of their attempts reached the handler`,
    );
  }
  if (audit.duplicateStarts > duplicateBound) {
    notes.push(`${audit.duplicateStarts} duplicate executions exceed kills x in-flight = ${duplicateBound}`);
  }
  const unstartedBound = kills * concurrency;
  if (audit.attemptsWithoutStart > unstartedBound) {
    notes.push(
      `${audit.attemptsWithoutStart} attempts spent on jobs that never reached their handler (claimed ahead), beyond kills x concurrency = ${unstartedBound}`,
    );
  }
  if (probeAttemptsSpent > 0) {
    notes.push(
      `claimed-ahead probe: ${probeCount} jobs held in a killed worker's buffer, never started, spent ${probeAttemptsSpent} attempt(s)`,
    );
  }
  if (probeUnfinished > 0) notes.push(`claimed-ahead probe: ${probeUnfinished} job(s) did not complete`);
  const badExits = exitCodes.filter((e) => e.code !== 0);
  if (badExits.length > 0) {
    notes.push(
      `${badExits.length} worker(s) did not exit 0 on the final SIGTERM: ${badExits.map((e) => e.code ?? e.signal).join(", ")}`,
    );
  }
  const leaseLossBound = Math.max(1, Math.floor(jobCount / 1_000));
  if (leaseLossWarnings > leaseLossBound) {
    notes.push(
      `live workers lost ${leaseLossWarnings} leases of running jobs ("lost the lease" warnings), more than ${leaseLossBound}: their event loops stalled for 2 s or more, or a renewal raced a completion`,
    );
  }
  notes.push(...audit.examples);
  const ok =
    audit.lost === 0 &&
    audit.stuck === 0 &&
    audit.discardedEarly === 0 &&
    audit.duplicateStarts <= duplicateBound &&
    audit.attemptsWithoutStart <= unstartedBound &&
    probeAttemptsSpent === 0 &&
    leaseLossWarnings <= leaseLossBound &&
    probeUnfinished === 0 &&
    badExits.length === 0;
  return {
    ok,
    jobs: audit.jobs,
    completed: audit.completed,
    lost: audit.lost,
    stuck: audit.stuck,
    discardedEarly: audit.discardedEarly,
    kills,
    killingSeconds: Math.round(killingMs / 100) / 10,
    duplicateExecutions: audit.duplicateStarts,
    duplicateCompletions: audit.duplicateEnds,
    duplicateBound,
    attemptsWithoutStart: audit.attemptsWithoutStart,
    attemptsWithoutStartBound: unstartedBound,
    maxAttempt: audit.maxAttempt,
    probeAttemptsSpent,
    leaseLossWarnings,
    leaseLossBound,
    states: audit.states,
    notes,
  };
});
