import { optionKeys, rejectUnknownKeys, TendError } from "../errors/index.ts";
import type { Task } from "../lifecycle/index.ts";
import type { Logger } from "../log/index.ts";
import { type OrphanWatchdog, startOrphanWatchdog } from "./orphan-watchdog.ts";
import { isProcessAlive, signalGroup } from "./process-group.ts";
import {
  type HeartbeatMessage,
  isMasterMessage,
  type ReadyMessage,
  type StoppedMessage,
  SUPERVISE_ENV,
  type WorkerMessage,
} from "./protocol.ts";

/** What the worker side reads from the job worker to report progress. */
export interface ProgressProbe {
  /** Jobs running now in this process. */
  inFlight(): number;
  /** ms epoch of this process's last job completion, or null. */
  lastCompletionAt(): number | null;
  /** This process's metrics as prom-client JSON, sent to the master after heartbeats (when given). */
  metrics?: () => Promise<unknown[]>;
}

/** Options of {@link createSupervisedWorkerTask}. */
export interface SupervisedWorkerOptions {
  probe: ProgressProbe;
  /** Called once when the worker must stop gracefully (master said "stop", or the master is gone): stop fetching, finish in-flight jobs, then end the process's tasks. */
  onStop: () => void;
  log: Logger;
  /** Environment to read settings from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

const KEYS = optionKeys<SupervisedWorkerOptions>({ probe: true, onStop: true, log: true, env: true });

function envMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const n = Number(env[name]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * True when this process was started by `tend supervise` (env TEND_SUPERVISED=1 and an IPC channel).
 *
 * @example
 * ```ts
 * if (isSupervisedWorker()) tasks.push(createSupervisedWorkerTask({ probe: jobs, onStop, log }));
 * ```
 */
export function isSupervisedWorker(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[SUPERVISE_ENV.supervised] === "1" && typeof process.send === "function";
}

/**
 * The worker side of the supervisor's IPC protocol, as a Task (name `supervise.worker`) run
 * beside the app's other tasks (start it first): reports `ready` as soon as it runs, sends heartbeats from the event
 * loop with the in-flight count and the last completion time, and on "stop" from the master calls
 * `onStop`, then, when the task is aborted and nothing is in flight, says `stopped`.
 * If the master dies (IPC disconnect, or the parent pid changes) it stops gracefully and exits
 * the process after the orphan grace (TEND_ORPHAN_GRACE_MS) at the latest: a worker never keeps
 * running unsupervised. An orphan watchdog thread (see orphan-watchdog.ts) backs this up without
 * needing the event loop: it SIGKILLs the process as soon as the master is gone if the main
 * thread is frozen, and after the grace otherwise.
 *
 * The task returns once it has said `stopped`, but the process's other tasks (an inbox draining,
 * an HTTP server closing, the program's own tasks) may run on for a while. Until the process
 * exits, the heartbeats, the watch on the master (IPC channel and parent pid) and the orphan
 * watchdog stay on, unref'd so that they never keep the process alive: the master keeps seeing
 * a live worker, and a worker whose master dies while it drains still exits within the grace.
 *
 * @example
 * ```ts
 * const task = createSupervisedWorkerTask({
 *   probe: { inFlight: () => jobs.inFlight(), lastCompletionAt: () => jobs.lastCompletionAt() },
 *   onStop: () => manager.stop(),
 *   log,
 * });
 * ```
 */
export function createSupervisedWorkerTask(options: SupervisedWorkerOptions): Task {
  rejectUnknownKeys("supervised worker options", options, KEYS);
  const { probe, onStop } = options;
  const env = options.env ?? process.env;
  const log = options.log.child({ part: "supervise" });
  return {
    name: "supervise.worker",
    async run(signal: AbortSignal): Promise<void> {
      if (typeof process.send !== "function") {
        throw new TendError(
          "TEND_E_SUPERVISE_NOT_SUPERVISED",
          "The supervised-worker task needs an IPC channel to a master; start the program with `tend supervise <program>`.",
        );
      }
      const workerId = env[SUPERVISE_ENV.workerId] ?? `${process.pid}`;
      const heartbeatMs = envMs(env, SUPERVISE_ENV.heartbeatMs, 1_000);
      const orphanGraceMs = envMs(env, SUPERVISE_ENV.orphanGraceMs, 2_000);
      const initialPpid = process.ppid;
      // The master's pid as the master gave it: the parent pid read now may already be 1, if the
      // master died while this program was still starting.
      const givenMaster = Number(env[SUPERVISE_ENV.masterPid]);
      const masterPid = Number.isInteger(givenMaster) && givenMaster > 1 ? givenMaster : initialPpid;
      let watchdog: OrphanWatchdog | null = null;
      try {
        // parentCheck beats it every 500 ms at most, so a second without a beat means a frozen loop.
        watchdog = startOrphanWatchdog({ masterPid, frozenMs: 1_000, graceMs: orphanGraceMs });
      } catch (err) {
        log.warn({ err }, "cannot start the orphan watchdog thread; a frozen worker may outlive its master");
      }
      let stopping = false;
      const send = (message: WorkerMessage): Promise<void> =>
        new Promise((resolve) => {
          if (!process.connected || process.send === undefined) return resolve();
          try {
            process.send(message, undefined, undefined, () => resolve());
          } catch {
            resolve();
          }
        });
      const requestStop = (why: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ workerId, why }, "stopping gracefully: no new jobs, finishing the ones in flight");
        try {
          onStop();
        } catch (err) {
          log.error({ err }, "onStop failed");
        }
      };
      let orphan = false;
      const orphaned = (why: string): void => {
        // What this worker started goes when it goes: it leads its own process group (the master
        // starts it detached) and, with no master left to end the group, ends it as it exits.
        if (!orphan) {
          orphan = true;
          process.once("exit", () => signalGroup(process.pid, "SIGTERM"));
        }
        requestStop(why);
        // Never keep running unsupervised: exit even if in-flight jobs do not finish (their leases expire).
        const t = setTimeout(() => {
          log.warn({ workerId, orphanGraceMs }, "orphaned worker still busy after the grace; exiting now");
          process.exit(1);
        }, orphanGraceMs);
        t.unref();
      };
      const onMessage = (message: unknown): void => {
        if (isMasterMessage(message)) requestStop(`master asked: ${message.reason}`);
      };
      const onDisconnect = (): void => orphaned("the master is gone (IPC channel closed)");
      const beat = (): void => {
        const message: HeartbeatMessage = {
          tend: 1,
          type: "heartbeat",
          inFlight: probe.inFlight(),
          lastCompletionAt: probe.lastCompletionAt(),
          sentAt: Date.now(),
        };
        void send(message);
        sendMetrics();
      };
      let metricsPending = false;
      const sendMetrics = (): void => {
        if (probe.metrics === undefined || metricsPending) return;
        metricsPending = true;
        probe
          .metrics()
          .then((metrics) => send({ tend: 1, type: "metrics", metrics }))
          .catch((err: unknown) => log.warn({ err }, "could not collect metrics for the master"))
          .finally(() => {
            metricsPending = false;
          });
      };
      const parentCheck = (): void => {
        watchdog?.beat();
        if (process.ppid !== initialPpid)
          orphaned(`the master is gone (parent pid changed from ${initialPpid} to ${process.ppid})`);
      };
      process.on("message", onMessage);
      process.once("disconnect", onDisconnect);
      // A master that died while this program was starting closed the channel before the listener
      // above was there: its "disconnect" will never come.
      if (!process.connected) onDisconnect();
      else if (!isProcessAlive(masterPid)) orphaned(`the master (pid ${masterPid}) is gone`);
      const heartbeat = setInterval(beat, heartbeatMs);
      const watch = setInterval(parentCheck, Math.min(500, heartbeatMs));
      try {
        // Report ready at once, in this very tick (an IPC write goes out synchronously): the app
        // starts this task before its other tasks, so that a job blocking the event loop from its
        // first tick is caught by the hang timeout and blamed on the job, not mistaken for a
        // program that fails to start.
        const ready: ReadyMessage = { tend: 1, type: "ready", workerId, pid: process.pid };
        const readySent = send(ready);
        beat();
        await readySent;
        if (!signal.aborted)
          await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        requestStop("the process is shutting down");
        // Keep beating while the job worker finishes what it holds.
        while (probe.inFlight() > 0 && process.connected)
          await new Promise((resolve) => setTimeout(resolve, 20));
        beat();
        const stopped: StoppedMessage = { tend: 1, type: "stopped", workerId };
        await send(stopped);
      } finally {
        // The process's other tasks may still be draining: keep beating and watching the master
        // until the process exits, without keeping it alive (see the TSDoc above).
        heartbeat.unref();
        watch.unref();
        process.channel?.unref();
      }
    },
  };
}
