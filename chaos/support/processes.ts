/**
 * The child processes a chaos scenario starts: spawned with the project's Node, their output
 * appended to a log file in the scenario's folder, tracked so that every one of them is killed
 * when the scenario ends (also when it fails or is interrupted).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One started process. */
export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Resolves once the process has exited (never rejects). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the process has exited. */
  running(): boolean;
  /** Where its stdout and stderr go. */
  logFile: string;
}

export interface SpawnOptions {
  /** Arguments after the script. */
  args?: readonly string[];
  /** Added to the scenario's environment. */
  env?: Record<string, string>;
  /** Node flags before the script (e.g. --expose-gc). */
  execArgv?: readonly string[];
  /** The command to run instead of Node (then `script` is its first argument). */
  command?: string;
  /** Working folder (default: this process's). */
  cwd?: string;
}

/** Tracks the processes of one scenario. */
export class Processes {
  readonly #dir: string;
  readonly #children = new Set<Child>();
  readonly #extraPids = new Set<number>();
  #seq = 0;

  /** `dir`: the folder for the processes' log files. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Starts `script` with the project's Node (or `options.command`), output to `<dir>/<name>-<n>.log`. */
  spawn(name: string, script: string, options: SpawnOptions = {}): Child {
    const logFile = join(this.#dir, `${name}-${++this.#seq}.log`);
    const fd = openSync(logFile, "a");
    const command = options.command ?? process.execPath;
    const args =
      options.command === undefined
        ? [...(options.execArgv ?? []), script, ...(options.args ?? [])]
        : [script, ...(options.args ?? [])];
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        stdio: ["ignore", fd, fd],
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        env: {
          ...process.env,
          TEND_LOG_PRETTY: "0",
          TEND_LOG_LEVEL: process.env["CHAOS_LOG_LEVEL"] ?? "warn",
          ...options.env,
        },
      });
    } finally {
      closeSync(fd);
    }
    let done = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once("exit", (code, signal) => {
        done = true;
        resolve({ code, signal });
      });
      child.once("error", () => {
        done = true;
        resolve({ code: null, signal: null });
      });
    });
    const entry: Child = {
      name,
      pid: child.pid ?? -1,
      process: child,
      exited,
      running: () => !done,
      logFile,
    };
    this.#children.add(entry);
    void exited.then(() => this.#children.delete(entry));
    return entry;
  }

  /** Also kill `pid` at the end (a process started by one of ours, e.g. a supervised worker). */
  adopt(pid: number): void {
    this.#extraPids.add(pid);
  }

  /** The processes still running. */
  running(): Child[] {
    return [...this.#children].filter((c) => c.running());
  }

  /** SIGKILLs `child` and waits for its exit. */
  async kill(child: Child, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (child.running()) child.process.kill(signal);
    await child.exited;
  }

  /**
   * Sends SIGTERM to every process still running and waits up to `graceMs` for each, then
   * SIGKILLs what is left, the adopted pids and every descendant the processes had (a master's
   * workers, which leave its process group), and waits for them.
   */
  async stopAll(graceMs = 0): Promise<void> {
    const live = this.running();
    for (const c of live) for (const pid of descendants(c.pid)) this.#extraPids.add(pid);
    if (graceMs > 0) {
      for (const c of live) c.process.kill("SIGTERM");
      await Promise.race([
        Promise.all(live.map((c) => c.exited)),
        new Promise((resolve) => setTimeout(resolve, graceMs)),
      ]);
    }
    for (const c of this.running()) c.process.kill("SIGKILL");
    await Promise.all(live.map((c) => c.exited));
    for (const pid of this.#extraPids) killPid(pid);
    this.#extraPids.clear();
  }
}

/** SIGKILLs `pid` if it still exists (ignores a pid already gone). */
export function killPid(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** True while `pid` exists and has not exited (a zombie counts as gone). Linux /proc. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the command name, which is in parentheses and may itself hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** The parent pid of `pid`, or null when it is gone. */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return null;
  }
}

/** Every live descendant of `pid` (children, their children...), from /proc. */
export function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const child = Number(entry);
    const parent = parentOf(child);
    if (parent === null) continue;
    const list = byParent.get(parent) ?? [];
    list.push(child);
    byParent.set(parent, list);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      if (!pidAlive(child)) continue;
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
