import type { ChildProcess } from "node:child_process";
import { startProgram } from "./self-executable.ts";
import { EventEmitter } from "node:events";
import type { Logger } from "../log/index.ts";
import type { ProgressView } from "./health.ts";
import { signalGroup } from "./process-group.ts";
import { isWorkerMessage, type StartMessage, type StopMessage, SUPERVISE_ENV } from "./protocol.ts";

/** Lifecycle of one worker process as the master sees it. */
export type WorkerState = "starting" | "ready" | "stopping" | "exited";

/** How a worker process ended. */
export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It said "stopped" before exiting (a clean graceful stop). */
  stoppedCleanly: boolean;
  /** Why the master stopped or killed it; null when it died on its own. */
  stopReason: string | null;
  /** The master stopped it on purpose (scale down, rolling restart, shutdown): not a failure. */
  planned: boolean;
  uptimeMs: number;
}

/** What is needed to start one worker. */
export interface SpawnSpec {
  id: string;
  slot: number;
  program: string;
  args: readonly string[];
  execArgv: readonly string[];
  env: NodeJS.ProcessEnv;
  stdio: "inherit" | "ignore";
  log: Logger;
}

/**
 * One worker process: forked detached (its own process group) with an IPC channel, tracking the
 * ready handshake, heartbeats and the way it ended. Emits `ready`, `heartbeat`, `exit` (WorkerExit).
 *
 * @example
 * ```ts
 * const w = WorkerProcess.spawn(spec);
 * w.once("ready", () => console.log("up", w.pid));
 * await w.stop("scale down", 30_000, 5_000);
 * ```
 */
export class WorkerProcess extends EventEmitter {
  readonly id: string;
  readonly slot: number;
  readonly startedAt: number;
  readonly exited: Promise<WorkerExit>;
  state: WorkerState = "starting";
  readyAt: number | null = null;
  lastHeartbeatAt: number | null = null;
  /** The worker's last metrics snapshot (prom-client JSON), when it sends them. */
  metrics: unknown[] | null = null;
  inFlight = 0;
  lastCompletionAt: number | null = null;
  busySince: number | null = null;
  /** Set when the master began stopping or killing it. */
  stopReason: string | null = null;
  /** The master is stopping it on purpose (not a failure). */
  planned = false;
  /** A rolling restart is replacing it: not counted as one of the running workers. */
  retiring = false;
  exitInfo: WorkerExit | null = null;
  /** When the master SIGKILLed it (null: not killed). */
  killedAt: number | null = null;
  readonly #child: ChildProcess;
  readonly #log: Logger;
  #stoppedCleanly = false;
  #timers: NodeJS.Timeout[] = [];

  private constructor(spec: SpawnSpec, child: ChildProcess) {
    super();
    this.id = spec.id;
    this.slot = spec.slot;
    this.startedAt = Date.now();
    this.#child = child;
    this.#log = spec.log;
    this.exited = new Promise<WorkerExit>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (done) return;
        done = true;
        for (const t of this.#timers) clearTimeout(t);
        this.state = "exited";
        // Make sure no grandchild outlives the worker while holding a port or a file.
        if (this.pid > 0 && signalGroup(this.pid, 0)) {
          signalGroup(this.pid, "SIGTERM");
          const t = setTimeout(() => signalGroup(this.pid, "SIGKILL"), 1_000);
          t.unref();
        }
        this.exitInfo = {
          code,
          signal,
          stoppedCleanly: this.#stoppedCleanly,
          stopReason: this.stopReason,
          planned: this.planned,
          uptimeMs: Date.now() - this.startedAt,
        };
        resolve(this.exitInfo);
        this.emit("exit", this.exitInfo);
      };
      // A worker that says "stopped" and exits at once: its last IPC messages may still be unread
      // when "exit" fires. Finish once the channel has closed (all messages read), or soon after.
      child.once("exit", (code, signal) => {
        if (!child.connected) return finish(code, signal);
        const late = setTimeout(() => finish(code, signal), 500);
        late.unref();
        child.once("disconnect", () => {
          clearTimeout(late);
          finish(code, signal);
        });
      });
      child.once("error", (err) => {
        this.#log.error({ err, workerId: this.id }, "worker process error");
        if (child.pid === undefined) finish(null, null);
      });
    });
    child.on("message", (message: unknown) => this.#onMessage(message));
  }

  /** Forks the program as a supervised worker. */
  static spawn(spec: SpawnSpec): WorkerProcess {
    const child = startProgram(spec.program, spec.args, {
      detached: true,
      env: { ...spec.env, [SUPERVISE_ENV.supervised]: "1", [SUPERVISE_ENV.workerId]: spec.id },
      execArgv: [...spec.execArgv],
      stdio:
        spec.stdio === "inherit"
          ? ["ignore", "inherit", "inherit", "ipc"]
          : ["ignore", "ignore", "ignore", "ipc"],
      serialization: "json",
    });
    return new WorkerProcess(spec, child);
  }

  /**
   * Makes a booted spare (see spare.ts) this worker: sends it the worker's environment and
   * arguments; it then loads the program. A spare that cannot be told is killed (a failed start).
   */
  static adopt(spec: SpawnSpec, child: ChildProcess): WorkerProcess {
    const worker = new WorkerProcess(spec, child);
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(spec.env)) if (value !== undefined) env[key] = value;
    env[SUPERVISE_ENV.supervised] = "1";
    env[SUPERVISE_ENV.workerId] = spec.id;
    const message: StartMessage = {
      tend: 1,
      type: "start",
      program: spec.program,
      args: [...spec.args],
      env,
    };
    child.send(message, (err) => {
      if (err) void worker.kill(`could not start the spare as a worker: ${err.message}`);
    });
    return worker;
  }

  /** The worker's pid (0 if the fork failed). */
  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** The view the progress watch judges. */
  progress(): ProgressView {
    const state = this.state === "exited" ? "stopping" : this.state;
    return {
      state,
      startedAt: this.startedAt,
      lastHeartbeatAt: this.lastHeartbeatAt,
      inFlight: this.inFlight,
      lastCompletionAt: this.lastCompletionAt,
      busySince: this.busySince,
    };
  }

  #onMessage(message: unknown): void {
    if (!isWorkerMessage(message)) return;
    const now = Date.now();
    switch (message.type) {
      case "ready":
        this.lastHeartbeatAt = now;
        if (this.state === "starting") {
          this.state = "ready";
          this.readyAt = now;
          this.emit("ready");
        } else if (this.planned && this.readyAt === null) {
          // Asked to stop before its worker side was listening: ask again now that it is.
          this.readyAt = now;
          this.#sendStop();
        }
        break;
      case "heartbeat":
        this.lastHeartbeatAt = now;
        if (message.inFlight > 0 && (this.inFlight === 0 || this.busySince === null)) this.busySince = now;
        if (message.inFlight === 0) this.busySince = null;
        this.inFlight = message.inFlight;
        this.lastCompletionAt = message.lastCompletionAt;
        this.emit("heartbeat");
        break;
      case "stopped":
        this.#stoppedCleanly = true;
        this.inFlight = 0;
        break;
      case "metrics":
        this.metrics = message.metrics;
        break;
    }
  }

  /**
   * Graceful stop: asks the worker over IPC to finish its in-flight jobs and exit; after
   * `killTimeoutMs` sends SIGTERM to its process group, and after `termGraceMs` more, SIGKILL.
   * Resolves when the worker has exited.
   */
  stop(reason: string, killTimeoutMs: number, termGraceMs: number): Promise<WorkerExit> {
    if (this.state === "exited" || this.planned) return this.exited;
    this.planned = true;
    this.stopReason = reason;
    this.state = "stopping";
    this.#sendStop();
    this.#timers.push(
      setTimeout(() => {
        this.#log.warn(
          { workerId: this.id, pid: this.pid, killTimeoutMs },
          "worker did not stop in time; sending SIGTERM to its process group",
        );
        signalGroup(this.pid, "SIGTERM");
        this.#timers.push(
          setTimeout(() => {
            this.#log.warn(
              { workerId: this.id, pid: this.pid, termGraceMs },
              "worker ignored SIGTERM; sending SIGKILL to its process group",
            );
            signalGroup(this.pid, "SIGKILL");
          }, termGraceMs),
        );
      }, killTimeoutMs),
    );
    return this.exited;
  }

  #sendStop(): void {
    const message: StopMessage = { tend: 1, type: "stop", reason: this.stopReason ?? "stop" };
    if (this.#child.connected) {
      this.#child.send(message, (err) => {
        if (!err) return;
        // The channel closed: usually the worker is already exiting after saying "stopped". Give
        // it a moment before treating it as unreachable, so a clean exit is not cut short.
        this.#timers.push(
          setTimeout(() => {
            if (this.state !== "exited" && !this.#stoppedCleanly) signalGroup(this.pid, "SIGTERM");
          }, 250),
        );
      });
    } else {
      signalGroup(this.pid, "SIGTERM");
    }
  }

  /** Kills the worker's whole process group at once (SIGKILL). Resolves when it has exited. */
  kill(reason: string): Promise<WorkerExit> {
    if (this.state === "exited" || this.killedAt !== null) return this.exited;
    this.killedAt = Date.now();
    if (this.stopReason === null) this.stopReason = reason;
    this.state = "stopping";
    if (!signalGroup(this.pid, "SIGKILL")) this.#child.kill("SIGKILL");
    return this.exited;
  }
}
