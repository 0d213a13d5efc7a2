/**
 * Scenario 7: a real restart of a private PostgreSQL cluster.
 *
 * The scenario creates a cluster in a temp folder (`initdb`, a free port; support/pg-cluster.ts),
 * runs two worker processes (fixtures/job-worker.ts) against it while this process enqueues jobs
 * steadily, then stops the server with `pg_ctl stop -m immediate` mid-run (every server process
 * quits at once, as in a crash), waits 2 s and starts it again (crash recovery runs). The cluster
 * is removed at the end.
 *
 * Verdict: 0 jobs lost (every job acknowledged as enqueued exists and completes) and processing
 * resumes within 5 s of the server accepting connections again (a job enqueued after that
 * completes), with both workers still running.
 *
 *   node chaos/scenarios/postgres-restart.ts [--smoke]
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createApp, createLogger } from "../../src/index.ts";
import { waitFor } from "../../test/support/wait.ts";
import { startEnqueuer, timeToNewCompletion, waitUntilIdle } from "../support/enqueuer.ts";
import { auditRun, countCompleted, workerReady } from "../support/executions.ts";
import { PgCluster } from "../support/pg-cluster.ts";
import { runScenario, sleep } from "../support/scenario.ts";

const WORKER = join(import.meta.dirname, "..", "fixtures", "job-worker.ts");
const DOWN_MS = 2_000;
const RESUME_LIMIT_MS = 5_000;

await runScenario("postgres-restart", "postgres", async (ctx) => {
  const cluster = await PgCluster.create();
  ctx.defer(() => cluster.remove());
  await cluster.start();
  ctx.log(`private cluster up at ${cluster.url}`);
  const recordDir = join(ctx.dir, "records");
  await mkdir(recordDir);
  const leaseMs = 10_000;

  const app = createApp({ database: cluster.url, log: createLogger({ level: "fatal" }) });
  ctx.defer(() => app.close());
  await app.store(); // migrates once, before the workers start
  const workers = [1, 2].map(() =>
    ctx.procs.spawn("worker", WORKER, {
      env: {
        TEND_DATABASE_URL: cluster.url,
        CHAOS_RECORD_DIR: recordDir,
        CHAOS_CONCURRENCY: "10",
        CHAOS_LEASE_MS: String(leaseMs),
      },
    }),
  );
  // The crash is meant for running workers, not for ones still starting.
  await waitFor(
    async () => (await Promise.all(workers.map((w) => workerReady(recordDir, w.pid)))).every(Boolean),
    {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: "both workers running",
    },
  );
  const enqueuer = startEnqueuer(app, "chaos.work", { everyMs: 50, perTick: 2 });
  ctx.defer(() => enqueuer.stop());
  await waitFor(async () => (await countCompleted(recordDir)) >= (ctx.smoke ? 50 : 500), {
    timeoutMs: 60_000,
    message: "jobs completing on the private cluster",
  });

  const acknowledgedBefore = enqueuer.ids.size;
  await cluster.stopImmediate();
  ctx.log(`server stopped (-m immediate) with ${acknowledgedBefore} jobs acknowledged`);
  await sleep(DOWN_MS);
  await cluster.start();
  const upAt = Date.now();
  ctx.log("server accepting connections again");
  const resumeMs = await timeToNewCompletion(recordDir, enqueuer, upAt, RESUME_LIMIT_MS);
  ctx.log(`processing resumed ${resumeMs ?? "never"} ms after the restart`);
  await sleep(ctx.smoke ? 2_000 : 10_000);

  await enqueuer.stop();
  await waitUntilIdle(app, leaseMs + 30_000);
  const workersAlive = workers.filter((w) => w.running()).length;
  await Promise.all(workers.map((w) => ctx.procs.kill(w, "SIGTERM")));
  const audit = await auditRun(app, recordDir, enqueuer.ids, "chaos.work");

  const notes: string[] = [];
  if (audit.lost > 0) notes.push(`${audit.lost} job(s) lost`, ...audit.examples);
  if (resumeMs === null || resumeMs > RESUME_LIMIT_MS)
    notes.push(`processing resumed ${resumeMs ?? "never"} ms after the server accepted connections again`);
  if (workersAlive < workers.length)
    notes.push(`${workers.length - workersAlive} worker(s) exited during the outage`);
  return {
    ok:
      audit.lost === 0 && resumeMs !== null && resumeMs <= RESUME_LIMIT_MS && workersAlive === workers.length,
    jobs: audit.jobs,
    completed: audit.completed,
    lost: audit.lost,
    acknowledgedBeforeCrash: acknowledgedBefore,
    enqueueFailures: enqueuer.failures.length,
    resumeMs,
    duplicateExecutions: audit.duplicateStarts,
    notes,
  };
});
