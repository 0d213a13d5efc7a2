/**
 * A `tend supervise` master started through the `tend` CLI (bin/tend.js) in the scenario's
 * folder, and what its status file (read with the public `readStatusFile`) says.
 */
import { join } from "node:path";
import { readStatusFile, type SupervisorStatus, type WorkerStatus } from "../../src/index.ts";
import { waitFor } from "../../test/support/wait.ts";
import type { Child } from "./processes.ts";
import type { ScenarioContext } from "./scenario.ts";

const TEND = join(import.meta.dirname, "..", "..", "bin", "tend.js");

/** A running master. */
export interface Master {
  child: Child;
  statusFile: string;
  /** The status file now (null while it cannot be read). */
  status(): Promise<SupervisorStatus | null>;
  /** Waits for `count` ready workers (not retiring) and returns them. */
  ready(count: number, timeoutMs?: number): Promise<WorkerStatus[]>;
}

/**
 * Starts `tend supervise <program> --database <url> <flags>` with its status file and worker
 * output in the scenario's folder. Every pid it reports is adopted by the scenario's cleanup.
 */
export function startMaster(
  ctx: ScenarioContext,
  program: string,
  database: string,
  flags: readonly string[],
  env: Record<string, string>,
): Master {
  const statusFile = join(ctx.dir, "tend-supervisor.json");
  const child = ctx.procs.spawn("master", TEND, {
    args: ["supervise", program, "--database", database, "--status-file", statusFile, ...flags],
    env,
    cwd: ctx.dir,
  });
  const status = async () => {
    const s = await readStatusFile(statusFile).catch(() => null);
    if (s !== null) {
      for (const w of s.workers) ctx.procs.adopt(w.pid);
      if (s.sparePid !== null) ctx.procs.adopt(s.sparePid);
    }
    return s;
  };
  return {
    child,
    statusFile,
    status,
    ready: (count, timeoutMs = 30_000) =>
      waitFor(
        async () => {
          const ready = (await status())?.workers.filter((w) => w.state === "ready" && !w.retiring) ?? [];
          return ready.length === count ? ready : null;
        },
        { timeoutMs, intervalMs: 100, message: `${count} ready workers in the supervisor's status file` },
      ),
  };
}
