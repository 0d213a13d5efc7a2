/**
 * Scenario 4: SIGHUP twice during a rolling restart.
 *
 * `tend supervise` runs three workers of a program file the scenario writes (it reports its version:
 * v1). Jobs are enqueued steadily throughout. The file is rewritten as v2 and the master gets
 * SIGHUP; as soon as one worker has been replaced, the file is rewritten as v3 and the master gets
 * SIGHUP again. Then the fleet is left to settle.
 *
 * Verdict: every worker ends on v3 (the code on disk at the last SIGHUP), the number of ready
 * workers never drops below three during the rolls, no job is lost (every acknowledged job
 * completes), and the master exits 0 on SIGTERM at the end.
 *
 *   node chaos/scenarios/sighup-roll.ts [--smoke]
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createApp, createLogger } from "../../src/index.ts";
import { waitFor } from "../../test/support/wait.ts";
import { startEnqueuer, waitUntilIdle } from "../support/enqueuer.ts";
import { auditRun, countCompleted } from "../support/executions.ts";
import { startMaster } from "../support/master.ts";
import { workerVersions } from "../support/records.ts";
import { runScenario } from "../support/scenario.ts";

const FLEET_APP = join(import.meta.dirname, "..", "fixtures", "fleet-app.ts");

await runScenario("sighup-roll", "sqlite", async (ctx) => {
  const url = `sqlite:${join(ctx.dir, "tend.db")}`;
  const recordDir = join(ctx.dir, "records");
  await mkdir(recordDir);
  const program = join(ctx.dir, "app.ts");
  const writeVersion = async (version: string) => {
    const text = `import { runFleetApp } from ${JSON.stringify(FLEET_APP)};\n\nawait runFleetApp(${JSON.stringify(version)});\n`;
    await writeFile(`${program}.tmp`, text);
    await rename(`${program}.tmp`, program);
  };
  await writeVersion("v1");
  const master = startMaster(ctx, program, url, ["--min", "3", "--max", "3"], {
    CHAOS_RECORD_DIR: recordDir,
    CHAOS_CONCURRENCY: "2",
  });
  const v1 = new Set((await master.ready(3)).map((w) => w.pid));

  const app = createApp({ database: url, log: createLogger({ level: "warn" }) });
  ctx.defer(() => app.close());
  const enqueuer = startEnqueuer(app, "chaos.work", { everyMs: 100, perTick: ctx.smoke ? 2 : 5 });
  ctx.defer(() => enqueuer.stop());
  await waitFor(async () => (await countCompleted(recordDir)) >= 10, {
    timeoutMs: 20_000,
    message: "jobs completing",
  });

  // Track the fewest ready workers from the first SIGHUP until the fleet settles.
  let lowestReady = Number.POSITIVE_INFINITY;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const s = await master.status();
      if (s !== null)
        lowestReady = Math.min(lowestReady, s.workers.filter((w) => w.state === "ready").length);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();

  await writeVersion("v2");
  master.child.process.kill("SIGHUP");
  ctx.log("v2 written, SIGHUP sent");
  const firstNew = await waitFor(
    async () => (await master.status())?.workers.find((w) => w.state === "ready" && !v1.has(w.pid)),
    { timeoutMs: 30_000, intervalMs: 20, message: "one worker replaced by the first roll" },
  );
  await writeVersion("v3");
  master.child.process.kill("SIGHUP");
  ctx.log(`worker ${firstNew.pid} replaced; v3 written, SIGHUP sent`);

  // Settled: three ready workers, none retiring, the same pids for 5 s (or all on v3).
  let lastPids = "";
  let sameSince = Date.now();
  const settled = await waitFor(
    async () => {
      const s = await master.status();
      if (s === null) return null;
      const ready = s.workers.filter((w) => w.state === "ready" && !w.retiring);
      const pids = ready
        .map((w) => w.pid)
        .sort()
        .join(",");
      if (pids !== lastPids || s.workers.length !== 3) {
        lastPids = pids;
        sameSince = Date.now();
        return null;
      }
      const versions = await workerVersions(recordDir);
      const allV3 = ready.length === 3 && ready.every((w) => versions.get(w.pid) === "v3");
      return ready.length === 3 && (allV3 || Date.now() - sameSince > 5_000) ? ready : null;
    },
    { timeoutMs: 60_000, intervalMs: 100, message: "the fleet settled after the rolls" },
  );
  watching = false;
  await watcher;
  const versions = await workerVersions(recordDir);
  const finalVersions = settled.map((w) => versions.get(w.pid) ?? "?");
  ctx.log(`settled on ${finalVersions.join(", ")}`);

  await enqueuer.stop();
  await waitUntilIdle(app, 30_000);
  master.child.process.kill("SIGTERM");
  const exit = await master.child.exited;
  const audit = await auditRun(app, recordDir, enqueuer.ids, "chaos.work");

  const notes: string[] = [];
  const onV3 = finalVersions.every((v) => v === "v3");
  if (!onV3) notes.push(`the fleet ended on ${finalVersions.join(", ")}, not v3 on every worker`);
  if (lowestReady < 3) notes.push(`ready workers dropped to ${lowestReady} during the rolls`);
  if (audit.lost > 0) notes.push(`${audit.lost} job(s) lost`, ...audit.examples);
  if (enqueuer.failures.length > 0)
    notes.push(`${enqueuer.failures.length} enqueue(s) failed: ${enqueuer.failures[0]?.message}`);
  if (exit.code !== 0) notes.push(`the master exited ${exit.code ?? exit.signal} on SIGTERM`);
  return {
    ok: onV3 && lowestReady >= 3 && audit.lost === 0 && enqueuer.failures.length === 0 && exit.code === 0,
    finalVersions,
    lowestReady,
    jobs: audit.jobs,
    completed: audit.completed,
    lost: audit.lost,
    duplicateExecutions: audit.duplicateStarts,
    notes,
  };
});
