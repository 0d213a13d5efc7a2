import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../src/log/logger.ts";
import type { NewJob } from "../../src/store/index.ts";
import type { SuperviseOptions } from "../../src/supervise/options.ts";
import { isProcessAlive } from "../../src/supervise/process-group.ts";
import { createSupervisor, type Supervisor } from "../../src/supervise/supervisor.ts";
import type { WorkerProcess } from "../../src/supervise/worker-process.ts";
import { waitFor } from "../support/wait.ts";

export const FIXTURE_WORKER = join(import.meta.dirname, "fixtures", "worker.ts");
export const FIXTURE_MASTER = join(import.meta.dirname, "fixtures", "master.ts");

/**
 * Fast timeouts for tests. The hang timeout is generous: a loaded machine can stall this process's
 * loop (the master's) or a worker's for a second, and a test that is not about hangs must not see a
 * healthy worker killed as hung. Tests about hangs pass {@link HANG_FAST}.
 */
export const FAST = {
  heartbeat: 100,
  hangTimeout: 5_000,
  startTimeout: 10_000,
  killTimeout: 5_000,
  termGrace: 1_000,
  scaleInterval: 100,
  statusInterval: 200,
} as const;

/** The hang timeout of the tests about hangs. */
export const HANG_FAST = { hangTimeout: 1_000 } as const;

/**
 * Records, from the master's `worker:spawned` channel, whether each worker started from the booted
 * spare; `dispose` unsubscribes.
 */
export function recordSpawns(): { fromSpare(workerId: string): boolean | undefined; dispose(): void } {
  const seen = new Map<string, boolean>();
  const onMessage = (message: unknown): void => {
    const m = message as { workerId: string; fromSpare: boolean };
    seen.set(m.workerId, m.fromSpare);
  };
  subscribe("tend:supervisor:worker:spawned", onMessage);
  return {
    fromSpare: (workerId) => seen.get(workerId),
    dispose: () => unsubscribe("tend:supervisor:worker:spawned", onMessage),
  };
}

/** A supervisor running in this process, with a stop function for `after`. */
export interface Running {
  supervisor: Supervisor;
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Creates and runs a supervisor on the fixture worker (FIXTURE_MODE etc. through `env`). */
export function runSupervisor(
  options: Partial<SuperviseOptions> & { env?: Record<string, string> },
): Running {
  const supervisor = createSupervisor({
    program: FIXTURE_WORKER,
    statusFile: null,
    log: createLogger(),
    ...FAST,
    ...options,
  });
  const ac = new AbortController();
  const done = supervisor.run(ac.signal);
  done.catch(() => {});
  return {
    supervisor,
    done,
    stop: async () => {
      ac.abort();
      await done.catch(() => {});
    },
  };
}

/** Resolves with the next worker that becomes ready (optionally one matching `filter`). */
export async function nextReady(
  supervisor: Supervisor,
  filter: (w: WorkerProcess) => boolean = () => true,
): Promise<WorkerProcess> {
  for (;;) {
    const [w] = (await once(supervisor, "worker-ready")) as [WorkerProcess];
    if (filter(w)) return w;
  }
}

/**
 * Waits for the steady state of a fleet: `count` ready workers and the spare booted (the master
 * keeps one spare so that a replacement starts warm).
 */
export async function steady(supervisor: Supervisor, count: number): Promise<void> {
  await waitFor(() => readyWorkers(supervisor).length === count && supervisor.spareReady, {
    timeoutMs: 20_000,
    message: `${count} ready workers and a booted spare`,
  });
}

/** Ready workers now. */
export function readyWorkers(supervisor: Supervisor): WorkerProcess[] {
  return supervisor.workers().filter((w) => w.state === "ready");
}

/** What a fixture worker writes about itself (see fixtures/worker.ts). */
export interface FixtureRecord {
  pid: number;
  mode: string;
  workerId?: string;
  version?: string;
  grandchildPid?: number;
  finishedJobs?: boolean;
  hangs?: boolean;
  hangStartedAt?: number;
  stoppedCleanly?: boolean;
  stoppedAt?: number;
  lingered?: boolean;
}

/** Reads what a fixture worker wrote about itself. */
export function fixtureRecord(dir: string, pid: number): FixtureRecord | null {
  try {
    return JSON.parse(readFileSync(join(dir, `${pid}.json`), "utf8")) as FixtureRecord;
  } catch {
    return null;
  }
}

/** True while the pid exists and has not exited (a zombie counts as gone). */
export function alive(pid: number): boolean {
  return isProcessAlive(pid);
}

/** A job of the fixture apps' "sleep" kind, runnable now, that sleeps `ms`. */
export function sleepJob(ms: number): NewJob {
  return {
    kind: "sleep",
    queue: "default",
    payload: JSON.stringify({ ms }),
    priority: 0,
    runAt: new Date(),
    maxAttempts: 5,
    uniqueKey: null,
    batchId: null,
    batchIndex: null,
  };
}
