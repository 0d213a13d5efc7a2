import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Jobs } from "../../src/jobs/index.ts";
import { openStore } from "../../src/store/index.ts";
import { onCleanup } from "./cleanup.ts";
import { silentLog, tendDatabase } from "./tend.ts";

const workerFile = join(import.meta.dirname, "rescue-worker.ts");

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Resolves with the first stdout line matching `re`; rejects if the child exits or after `timeoutMs`. */
function lineFrom(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(
      () => done(new Error(`no line matching ${re} from the worker within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: string): void => {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      const hit = lines.find((l) => re.test(l));
      if (hit !== undefined) done(null, hit);
    };
    const onExit = (): void => done(new Error(`the worker exited before printing a line matching ${re}`));
    function done(err: Error | null, line?: string): void {
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      if (err === null) resolve(line!);
      else reject(err);
    }
    child.stdout!.setEncoding("utf8").on("data", onData);
    child.once("exit", onExit);
  });
}

/**
 * Rescue of a SIGKILLed worker's job: a child tend worker (lease `leaseMs`) starts the job and is
 * killed with SIGKILL mid-job; a worker in this process (already running, same lease setting, so
 * its maintenance checks every lease/6) must complete the job. Returns ms from the kill until the
 * job is recorded completed by the other worker.
 */
export async function measureRescue(driver: "postgres" | "sqlite", leaseMs: number): Promise<number> {
  const db = await tendDatabase(driver);
  const store = await openStore(db.url);
  const closeStore = onCleanup("close tend store (rescue)", () => store.close());
  const queue = "rescue";
  const jobs = new Jobs(() => Promise.resolve(store), { log: silentLog, concurrency: 1, lease: leaseMs });
  const controller = new AbortController();
  let runs: Promise<unknown>[] = [];
  const child = spawn(process.execPath, [workerFile], {
    env: { ...process.env, TEND_DATABASE_URL: db.url, QUEUE: queue, LEASE_MS: String(leaseMs) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const killChild = onCleanup(`kill rescue worker ${child.pid}`, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited(child);
  });
  try {
    const { id } = await jobs.enqueue("bench.hang", { n: 1 }, { queue });
    await lineFrom(child, new RegExp(`^started ${id}$`), 30_000);
    let handledAt = 0;
    jobs.define(
      "bench.hang",
      () => {
        handledAt = performance.now();
      },
      { queue },
    );
    runs = (await jobs.tasks()).map((t) => t.run(controller.signal));
    const before = await jobs.get(id);
    if (before?.state !== "running")
      throw new Error(`rescue: job ${id} is ${before?.state}, expected running`);
    child.kill("SIGKILL");
    const killedAt = performance.now();
    await exited(child);
    const deadline = killedAt + leaseMs + 30_000;
    for (;;) {
      if (handledAt > 0) {
        const job = await jobs.get(id);
        if (job?.state === "completed") return performance.now() - killedAt;
      }
      if (performance.now() > deadline)
        throw new Error(`rescue (${driver}): job ${id} not completed in time`);
      await sleep(5);
    }
  } finally {
    controller.abort();
    await Promise.allSettled(runs);
    await killChild();
    await closeStore();
    await db.drop();
  }
}
