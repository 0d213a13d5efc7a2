/**
 * Scenario 6: PostgreSQL cut and frozen through a TCP proxy.
 *
 * A TCP proxy (support/tcp-proxy.ts) the scenario starts sits in front of a fresh database on the
 * shared PostgreSQL, which is never stopped or reconfigured. A worker process (fixtures/job-worker.ts)
 * and this process's enqueuer reach the database only through the proxy; jobs are enqueued
 * steadily. Then:
 *
 * 1. cut: every connection is destroyed and new ones are refused for 3 s, then the path comes back;
 * 2. freeze: every connection stays open but no byte is forwarded (nothing dropped) for 8 s; an
 *    enqueue issued at the start of the freeze is timed (the enqueuing app's URL sets
 *    `statement_timeout=5000ms`: the default of 30 s would outlast the freeze).
 *
 * Verdict: no job lost (every acknowledged job completes), enqueues refused during the cut fail
 * with a `TEND_E_` code, the enqueue during the freeze fails with a `TEND_E_` code before the
 * path comes back (how long it blocked is reported), and after each phase a job enqueued once the
 * path is back completes within 5 s.
 *
 *   node chaos/scenarios/postgres-proxy.ts [--smoke]
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createApp, createLogger } from "../../src/index.ts";
import { createTestDatabase } from "../../test/support/postgres.ts";
import { waitFor } from "../../test/support/wait.ts";
import { startEnqueuer, timeToNewCompletion, waitUntilIdle } from "../support/enqueuer.ts";
import { auditRun, countCompleted } from "../support/executions.ts";
import { runScenario, sleep } from "../support/scenario.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";

const WORKER = join(import.meta.dirname, "..", "fixtures", "job-worker.ts");
const CUT_MS = 3_000;
const FREEZE_MS = 8_000;
const RESUME_LIMIT_MS = 5_000;
/** The enqueuing app's statement timeout (URL parameter `statement_timeout`): below FREEZE_MS. */
const STATEMENT_TIMEOUT_MS = 5_000;

/** How the enqueue issued at the start of the freeze ended. */
interface ProbeResult {
  ms: number;
  code: string | undefined;
  message: string;
  id?: string;
}

await runScenario("postgres-proxy", "postgres", async (ctx) => {
  const db = await createTestDatabase();
  ctx.defer(() => db.drop());
  const direct = new URL(db.url);
  const proxy = new TcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  ctx.defer(() => proxy.close());
  const proxied = new URL(db.url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(await proxy.listen());
  const recordDir = join(ctx.dir, "records");
  await mkdir(recordDir);

  const leaseMs = 15_000;
  const worker = ctx.procs.spawn("worker", WORKER, {
    env: {
      TEND_DATABASE_URL: proxied.toString(),
      CHAOS_RECORD_DIR: recordDir,
      CHAOS_CONCURRENCY: "10",
      CHAOS_LEASE_MS: String(leaseMs),
    },
  });
  // The enqueuer's statements get a 5 s timeout (the default is 30 s, longer than the freeze), so
  // that the scenario sees the timeout fire and the call fail with its code while the path is frozen.
  const enqueuerUrl = new URL(proxied);
  enqueuerUrl.searchParams.set("statement_timeout", `${STATEMENT_TIMEOUT_MS}ms`);
  const app = createApp({ database: enqueuerUrl.toString(), log: createLogger({ level: "fatal" }) });
  ctx.defer(() => app.close());
  // Audits read the database directly, not through the proxy.
  const auditor = createApp({ database: db.url, log: createLogger({ level: "warn" }) });
  ctx.defer(() => auditor.close());
  const enqueuer = startEnqueuer(app, "chaos.work", { everyMs: 100, perTick: 2 });
  ctx.defer(() => enqueuer.stop());
  await waitFor(async () => (await countCompleted(recordDir)) >= 20, {
    timeoutMs: 30_000,
    message: "jobs completing through the proxy",
  });

  // 1. Cut.
  const failuresBeforeCut = enqueuer.failures.length;
  await proxy.cut();
  ctx.log("path cut");
  await sleep(CUT_MS);
  const cutFailures = enqueuer.failures.slice(failuresBeforeCut);
  await proxy.restore();
  const restoredAt = Date.now();
  ctx.log("path restored");
  const resumeAfterCutMs = await timeToNewCompletion(recordDir, enqueuer, restoredAt, RESUME_LIMIT_MS);
  ctx.log(`processing resumed ${resumeAfterCutMs} ms after the cut ended`);

  // 2. Freeze, with one enqueue timed from its start.
  proxy.freeze();
  const frozenAt = Date.now();
  ctx.log("path frozen");
  const probe: { result: ProbeResult | null } = { result: null };
  const probeCall = app.enqueue("chaos.work", { probe: true }).then(
    (r) => {
      probe.result = { ms: Date.now() - frozenAt, code: undefined, message: "succeeded", id: r.id };
    },
    (err: unknown) => {
      probe.result = {
        ms: Date.now() - frozenAt,
        code: (err as { code?: string }).code,
        message: (err as Error).message,
      };
    },
  );
  await sleep(FREEZE_MS);
  const probeBeforeThaw = probe.result;
  proxy.thaw();
  const thawedAt = Date.now();
  ctx.log(
    `path thawed; the enqueue during the freeze ${probeBeforeThaw === null ? "was still blocked" : `settled after ${probeBeforeThaw.ms} ms`}`,
  );
  const resumeAfterFreezeMs = await timeToNewCompletion(recordDir, enqueuer, thawedAt, RESUME_LIMIT_MS);
  ctx.log(`processing resumed ${resumeAfterFreezeMs} ms after the freeze ended`);
  await probeCall;
  const probeResult = probe.result;
  // Let jobs flow for a while on the restored path before the end.
  await sleep(ctx.smoke ? 2_000 : 10_000);

  await enqueuer.stop();
  const ids = new Set(enqueuer.ids);
  if (probeResult?.id !== undefined) ids.add(probeResult.id);
  await waitUntilIdle(auditor, leaseMs + 30_000);
  const workerAlive = worker.running();
  await ctx.procs.kill(worker, "SIGTERM");
  const audit = await auditRun(auditor, recordDir, ids, "chaos.work");

  const notes: string[] = [];
  const uncoded = cutFailures.filter((f) => f.code === undefined || !f.code.startsWith("TEND_E_"));
  if (uncoded.length > 0) {
    notes.push(
      `${uncoded.length} of ${cutFailures.length} enqueue(s) refused during the cut had no TEND_E_ code: "${uncoded[0]?.message}"`,
    );
  }
  const frozenOk =
    probeBeforeThaw !== null &&
    probeBeforeThaw.message !== "succeeded" &&
    probeBeforeThaw.code !== undefined &&
    probeBeforeThaw.code.startsWith("TEND_E_");
  if (!frozenOk) {
    notes.push(
      probeBeforeThaw === null
        ? `the enqueue during the freeze was still blocked when the path came back after ${FREEZE_MS} ms (it then ${probeResult?.message === "succeeded" ? "succeeded" : `failed: ${probeResult?.message}`} after ${probeResult?.ms} ms in all)`
        : `the enqueue during the freeze ended without a TEND_E_ code after ${probeBeforeThaw.ms} ms: ${probeBeforeThaw.message}`,
    );
  }
  const resumedOk = (ms: number | null) => ms !== null && ms <= RESUME_LIMIT_MS;
  if (!resumedOk(resumeAfterCutMs))
    notes.push(`processing resumed ${resumeAfterCutMs ?? "never"} ms after the cut ended`);
  if (!resumedOk(resumeAfterFreezeMs))
    notes.push(`processing resumed ${resumeAfterFreezeMs ?? "never"} ms after the freeze ended`);
  if (audit.lost > 0) notes.push(`${audit.lost} job(s) lost`, ...audit.examples);
  if (!workerAlive) notes.push("the worker process exited during the scenario");
  return {
    ok:
      audit.lost === 0 &&
      uncoded.length === 0 &&
      frozenOk &&
      resumedOk(resumeAfterCutMs) &&
      resumedOk(resumeAfterFreezeMs) &&
      workerAlive,
    jobs: audit.jobs,
    completed: audit.completed,
    lost: audit.lost,
    cutEnqueueFailures: cutFailures.length,
    cutErrorCodes: [...new Set(cutFailures.map((f) => f.code ?? "none"))],
    freezeEnqueueBlockedMs: probeResult?.ms ?? null,
    freezeEnqueueCode: probeResult?.code ?? (probeResult?.message === "succeeded" ? "succeeded" : "none"),
    resumeAfterCutMs,
    resumeAfterFreezeMs,
    notes,
  };
});
