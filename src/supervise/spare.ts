import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { signalGroup } from "./process-group.ts";
import { isSpareReadyMessage, SUPERVISE_ENV } from "./protocol.ts";
import { runsItself, startProgram } from "./self-executable.ts";

/** Path of the launcher a spare runs (the .ts source in development, the .js file once built). */
const LAUNCHER = fileURLToPath(
  new URL(import.meta.url.endsWith(".ts") ? "../launcher.ts" : "../launcher.js", import.meta.url),
);

/**
 * One pre-booted spare process (see spare-side.ts): started detached like a worker, it says `spare`
 * once Node is up and then waits. `take()` hands its ChildProcess over to become a worker. For a
 * script the spare runs the launcher (src/launcher.ts); for a single executable it is the
 * executable itself, started with `TEND_SPARE=1`.
 *
 * @example
 * ```ts
 * const spare = SpareProcess.spawn({ program: "dist/main.js", execArgv: [], env: process.env, stdio: "inherit" });
 * const child = spare.take(); // null until it has booted
 * ```
 */
export class SpareProcess {
  readonly #child: ChildProcess;
  #booted = false;
  #exited = false;
  readonly #onMessage = (message: unknown): void => {
    if (isSpareReadyMessage(message)) this.#booted = true;
  };
  readonly #onExit = (): void => {
    this.#exited = true;
    this.onExit?.(this.#booted);
  };
  /** Called if the spare exits before it is taken, with whether it had booted. */
  onExit: ((booted: boolean) => void) | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on("message", this.#onMessage);
    child.once("exit", this.#onExit);
    child.once("error", () => {});
  }

  /** Forks a spare. */
  static spawn(options: {
    program: string;
    execArgv: readonly string[];
    env: NodeJS.ProcessEnv;
    stdio: "inherit" | "ignore";
  }): SpareProcess {
    const self = runsItself(options.program);
    const forkOptions = {
      detached: true,
      env: self ? { ...options.env, [SUPERVISE_ENV.spare]: "1" } : options.env,
      execArgv: [...options.execArgv],
      stdio:
        options.stdio === "inherit"
          ? (["ignore", "inherit", "inherit", "ipc"] as const)
          : (["ignore", "ignore", "ignore", "ipc"] as const),
      serialization: "json" as const,
    };
    const child = self
      ? startProgram(options.program, [], { ...forkOptions, stdio: [...forkOptions.stdio] })
      : fork(LAUNCHER, [], { ...forkOptions, stdio: [...forkOptions.stdio] });
    return new SpareProcess(child);
  }

  /** The spare's pid (0 if the fork failed). */
  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** True once booted and still alive. */
  get available(): boolean {
    return this.#booted && !this.#exited && this.#child.connected;
  }

  /** Hands the booted spare over (this object lets go of it); null when it is not available. */
  take(): ChildProcess | null {
    if (!this.available) return null;
    this.#child.off("message", this.#onMessage);
    this.#child.off("exit", this.#onExit);
    this.#exited = true;
    return this.#child;
  }

  /** Ends an idle spare (SIGKILL to its group: it holds nothing). */
  kill(): void {
    if (this.#exited) return;
    this.#child.off("exit", this.#onExit);
    this.#exited = true;
    if (!signalGroup(this.pid, "SIGKILL")) this.#child.kill("SIGKILL");
  }
}

/**
 * Keeps at most one spare booted. Gives up on spares (workers then start cold) after three that
 * died before booting.
 *
 * @example
 * ```ts
 * keeper.ensure(() => SpareProcess.spawn({ program, execArgv: [], env, stdio: "inherit" }));
 * const child = keeper.take();
 * ```
 */
export class SpareKeeper {
  readonly #onGiveUp: () => void;
  #spare: SpareProcess | null = null;
  #failures = 0;

  constructor(onGiveUp: () => void) {
    this.#onGiveUp = onGiveUp;
  }

  /** Pid of the current spare, or null. */
  get pid(): number | null {
    return this.#spare?.pid ?? null;
  }

  /** True when a booted spare waits. */
  get ready(): boolean {
    return this.#spare?.available ?? false;
  }

  /** Starts a spare with `spawn` unless there is one already (or spares keep failing). */
  ensure(spawn: () => SpareProcess): void {
    if (this.#spare !== null || this.#failures >= 3) return;
    const spare = spawn();
    spare.onExit = (booted) => {
      if (this.#spare === spare) this.#spare = null;
      if (booted) return;
      this.#failures++;
      if (this.#failures >= 3) this.#onGiveUp();
    };
    this.#spare = spare;
  }

  /** Hands over the booted spare's process, or null. */
  take(): ChildProcess | null {
    const child = this.#spare?.take() ?? null;
    if (child !== null) this.#spare = null;
    return child;
  }

  /** Ends the spare, if any. */
  drop(): void {
    this.#spare?.kill();
    this.#spare = null;
  }
}
