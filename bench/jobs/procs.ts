/**
 * The harness's side of the bench children (bench/jobs/child.ts): spawn one with the same Node
 * (`process.execPath`), wait for it to be ready, send it commands and await their answers, follow
 * its progress, and make sure it is gone at the end (closed, else SIGKILLed; registered for the
 * bench's cleanup).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { onCleanup } from "./cleanup.ts";
import type { SystemOptions } from "./systems/system.ts";

const childFile = join(import.meta.dirname, "child.ts");

/** What a child opens: a module under bench/jobs/systems/, a database URL, the system's options. */
export interface ChildSpec {
  module: string;
  url: string;
  options: SystemOptions;
}

interface Reply {
  type: "reply";
  id: number;
  error?: string;
  [key: string]: unknown;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export class BenchChild {
  readonly label: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  readonly #kill: () => Promise<void>;
  #nextId = 1;
  #exitError: Error | null = null;
  /** Handler calls the child reported so far. */
  handled = 0;
  /** Called on every progress report. */
  onProgress: (() => void) | null = null;

  private constructor(label: string, child: ChildProcess) {
    this.label = label;
    this.#child = child;
    child.on("message", (message: { type: string; id?: number; count?: number; error?: string }) => {
      if (message.type === "progress") {
        this.handled = message.count ?? 0;
        this.onProgress?.();
      } else if (message.type === "reply") {
        const waiter = this.#pending.get(message.id!);
        this.#pending.delete(message.id!);
        if (message.error !== undefined) waiter?.reject(new Error(`${label}: ${message.error}`));
        else waiter?.resolve(message as unknown as Reply);
      }
    });
    child.once("exit", (code, signal) => {
      this.#exitError = new Error(`${label} exited (${signal ?? code})`);
      for (const waiter of this.#pending.values()) waiter.reject(this.#exitError);
      this.#pending.clear();
      this.onProgress?.();
    });
    this.#kill = onCleanup(`kill bench child ${label} (${child.pid})`, async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited(child);
    });
  }

  /** Spawns a child and resolves once it opened its system and said "ready". */
  static async start(
    label: string,
    spec: ChildSpec,
    options: { execArgv?: string[]; timeoutMs?: number } = {},
  ): Promise<BenchChild> {
    const child = spawn(process.execPath, [...(options.execArgv ?? []), childFile], {
      env: { ...process.env, BENCH_CHILD: JSON.stringify(spec), TEND_LOG_LEVEL: "warn" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const bench = new BenchChild(label, child);
    const timeoutMs = options.timeoutMs ?? 60_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`${label}: not ready within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onMessage = (m: { type: string }): void => {
        if (m.type !== "ready") return;
        done();
        resolve();
      };
      const onExit = (code: number | null, signal: string | null): void =>
        fail(new Error(`${label} exited (${signal ?? code}) before it was ready`));
      function done(): void {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
      }
      function fail(err: Error): void {
        done();
        reject(err);
      }
      child.on("message", onMessage);
      child.once("exit", onExit);
    }).catch(async (err: unknown) => {
      await bench.#kill();
      throw err;
    });
    return bench;
  }

  /** Why the child is gone (null while it runs). */
  get exitError(): Error | null {
    return this.#exitError;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** Sends a command and resolves with its answer; rejects on the child's error, exit or timeout. */
  request<T extends object>(command: object, timeoutMs = 600_000): Promise<T & Reply> {
    if (this.#exitError !== null) return Promise.reject(this.#exitError);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.label}: no answer to ${JSON.stringify(command)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r as T & Reply);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#child.send({ ...command, id });
    });
  }

  /** Asks the child to close and exit; SIGKILLs it if it has not within `timeoutMs`. */
  async close(timeoutMs = 20_000): Promise<void> {
    if (this.#exitError === null) {
      await this.request({ cmd: "close" }, timeoutMs).catch(() => {});
      const timer = setTimeout(() => this.#child.kill("SIGKILL"), timeoutMs);
      await exited(this.#child);
      clearTimeout(timer);
    }
    await this.#kill();
  }
}

/** Resolves once the children's handler calls add up to `n`; rejects after `timeoutMs`. */
export function allHandled(children: readonly BenchChild[], n: number, timeoutMs: number): Promise<void> {
  const sum = (): number => children.reduce((s, c) => s + c.handled, 0);
  if (sum() >= n) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`only ${sum()} of ${n} jobs handled within ${timeoutMs} ms`));
    }, timeoutMs);
    const check = (): void => {
      const gone = children.find((c) => c.exitError !== null);
      if (gone !== undefined) {
        finish();
        reject(gone.exitError!);
      } else if (sum() >= n) {
        finish();
        resolve();
      }
    };
    function finish(): void {
      clearTimeout(timer);
      for (const c of children) c.onProgress = null;
    }
    for (const c of children) c.onProgress = check;
  });
}
