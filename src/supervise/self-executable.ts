import { type ChildProcess, type ForkOptions, fork, spawn } from "node:child_process";
import { isSea } from "node:sea";

/**
 * True when `program` is the single executable this process runs from (`tend build`): the
 * supervisor then starts workers by running that file itself, which runs the program inside it.
 *
 * @example
 * ```ts
 * runsItself(process.execPath); // true inside ./myservice tend supervise
 * ```
 */
export function runsItself(program: string): boolean {
  return program === process.execPath && isSea();
}

/**
 * Starts a worker process with an IPC channel: `fork(program)` for a script, or, for the single
 * executable this process runs from, that file again (read from its path now, so a file replaced
 * since this master started, by a new deploy, is what new workers run).
 */
export function startProgram(program: string, args: readonly string[], options: ForkOptions): ChildProcess {
  if (!runsItself(program)) return fork(program, [...args], options);
  const { execArgv: _ignored, ...rest } = options;
  return spawn(program, [...args], {
    ...rest,
    stdio: options.stdio ?? ["ignore", "inherit", "inherit", "ipc"],
  });
}
