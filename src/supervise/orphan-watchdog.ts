import { Worker } from "node:worker_threads";

/** Limits of the orphan watchdog. */
export interface OrphanLimits {
  /** The main thread counts as frozen after this long without progress. */
  frozenMs: number;
  /** How long a live main thread may take to drain and exit on its own once the master is gone. */
  graceMs: number;
}

/** What the watchdog knows on one poll. */
export interface OrphanView {
  now: number;
  /** When the watchdog first saw the master gone (null: the master is alive). */
  masterGoneAt: number | null;
  /** When the main thread last showed progress (its beat counter moved). */
  mainProgressAt: number;
}

/**
 * The orphan watchdog's decision on one poll (a pure function; the watchdog thread runs this very
 * function's source). While the master lives: wait. Once it is gone: kill at once when the main
 * thread is frozen (it cannot run its own graceful exit); otherwise let the main thread drain for
 * its grace, and kill as a backstop when it has not exited after grace + frozen time.
 *
 * @example
 * ```ts
 * orphanVerdict({ now: 5_000, masterGoneAt: 4_900, mainProgressAt: 1_000 }, { frozenMs: 1_000, graceMs: 2_000 }); // "kill"
 * ```
 */
export function orphanVerdict(view: OrphanView, limits: OrphanLimits): "wait" | "kill" {
  if (view.masterGoneAt === null) return "wait";
  if (view.now - view.mainProgressAt >= limits.frozenMs) return "kill";
  if (view.now - view.masterGoneAt >= limits.graceMs + limits.frozenMs) return "kill";
  return "wait";
}

/** Options of {@link startOrphanWatchdog}. */
export interface OrphanWatchdogOptions extends OrphanLimits {
  /** The master's pid: the watchdog acts once this process's parent is no longer it. */
  masterPid: number;
  /** How often the watchdog looks (default 500 ms). */
  pollMs?: number;
}

/** A running orphan watchdog. */
export interface OrphanWatchdog {
  /** Resolves once the watchdog thread runs (rejects if it could not start). */
  readonly online: Promise<void>;
  /**
   * Proves that the main thread makes progress: call it from a timer of the main thread at least
   * twice per `frozenMs` (the watchdog has no timer of its own on the main thread, to stay cheap).
   */
  beat(): void;
  /** Ends the watchdog thread (the process then no longer dies with its master). */
  stop(): Promise<void>;
}

/** The watchdog thread's program (CommonJS, evaluated in the thread). */
const THREAD_SOURCE = `
const { workerData } = require("node:worker_threads");
const { masterPid, beat, pollMs, limits } = workerData;
const orphanVerdict = ${orphanVerdict.toString()};
let masterGoneAt = null;
let lastBeat = Atomics.load(beat, 0);
let mainProgressAt = Date.now();
const masterAlive = () => {
  if (process.ppid !== masterPid) return false;
  try {
    process.kill(masterPid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
};
setInterval(() => {
  const now = Date.now();
  const b = Atomics.load(beat, 0);
  if (b !== lastBeat) {
    lastBeat = b;
    mainProgressAt = now;
  }
  if (masterGoneAt === null && !masterAlive()) masterGoneAt = now;
  if (orphanVerdict({ now, masterGoneAt, mainProgressAt }, limits) === "kill") {
    // The worker's whole process group (it leads one: the master starts it detached), so that what
    // it started goes with it; a worker that leads no group has none of that id (ESRCH).
    try { process.kill(-process.pid, "SIGKILL"); } catch {}
    process.kill(process.pid, "SIGKILL");
  }
}, pollMs);
`;

/**
 * Starts the orphan watchdog of a supervised worker: a `node:worker_threads` thread, independent of
 * the main thread's event loop, that polls whether the master is still this process's parent and
 * alive. When the master is gone it SIGKILLs this process (see {@link orphanVerdict}): at once if
 * the main thread is frozen (a blocked event loop never runs its own orphan exit), else after the
 * main thread's grace. The main thread proves progress through `beat()`, which bumps a counter in
 * shared memory. The thread is unref'd: it never keeps the process alive. It runs without the
 * process's environment and command-line options, so no `--require` preload (from NODE_OPTIONS
 * or the command line) runs in it.
 *
 * @example
 * ```ts
 * const dog = startOrphanWatchdog({ masterPid: process.ppid, frozenMs: 1_000, graceMs: 2_000 });
 * const beat = setInterval(() => dog.beat(), 500);
 * // ... on a normal stop:
 * await dog.stop();
 * ```
 */
export function startOrphanWatchdog(options: OrphanWatchdogOptions): OrphanWatchdog {
  const beat = new Int32Array(new SharedArrayBuffer(4));
  const thread = new Worker(THREAD_SOURCE, {
    eval: true,
    // Nothing of the process's set-up: an empty environment (no copy of process.env, and so no
    // NODE_OPTIONS) and no command-line options, so that `--require` preloads (an APM agent,
    // instrumentation) do not run in the thread again, which would cost their memory once more
    // per worker and run their code beside the watchdog. The thread needs neither.
    env: {},
    execArgv: [],
    stdout: false,
    stderr: false,
    workerData: {
      masterPid: options.masterPid,
      beat,
      pollMs: options.pollMs ?? 500,
      limits: { frozenMs: options.frozenMs, graceMs: options.graceMs },
    },
  });
  thread.unref();
  const online = new Promise<void>((resolve, reject) => {
    thread.once("online", resolve);
    thread.once("error", reject);
  });
  // A failure of the watchdog itself must not take the worker down: it only loses this safety net.
  online.catch(() => {});
  thread.on("error", () => {});
  return {
    online,
    beat: () => {
      Atomics.add(beat, 0, 1);
    },
    async stop() {
      await thread.terminate();
    },
  };
}
