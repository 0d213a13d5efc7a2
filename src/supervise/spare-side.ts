import { isStartMessage, type SpareReadyMessage } from "./protocol.ts";

/** What a spare process does besides waiting: how it loads the program, and what it loads ahead. */
export interface SpareSide {
  /** Loads and runs the program named by the master's `start` message. */
  load(program: string): Promise<unknown>;
  /** Loads tend's own modules while idle (a failure only means a colder start). */
  warm(): Promise<unknown>;
}

/**
 * Runs this process as a supervisor's spare: warms up, says `spare` to the master, then waits for
 * its `start` message, takes on the worker's environment and arguments from it and loads the
 * program, which runs as if started directly. An idle spare whose master is gone (IPC
 * disconnected, or the parent pid changed) exits at once. Used by the spare launcher script and
 * by a single executable started as a spare.
 *
 * @example
 * ```ts
 * await serveAsSpare({ load: (program) => import(pathToFileURL(program).href), warm: () => import("tend") });
 * ```
 */
export async function serveAsSpare(side: SpareSide): Promise<void> {
  const parentPid = process.ppid;
  const onDisconnect = (): void => process.exit(0);
  const watch = setInterval(() => {
    if (process.ppid !== parentPid) process.exit(0);
  }, 500);
  const onMessage = (message: unknown): void => {
    if (!isStartMessage(message)) return;
    process.off("message", onMessage);
    process.off("disconnect", onDisconnect);
    clearInterval(watch);
    for (const key of Object.keys(process.env)) if (!(key in message.env)) delete process.env[key];
    Object.assign(process.env, message.env);
    process.argv = [process.argv[0] ?? process.execPath, message.program, ...message.args];
    side.load(message.program).catch((err: unknown) => {
      process.stderr.write(
        `tend: the program ${message.program} failed to load: ${(err as Error)?.stack ?? String(err)}\n`,
      );
      process.exit(1);
    });
  };
  process.once("disconnect", onDisconnect);
  process.on("message", onMessage);
  // Modules loaded before these listeners: a master that died meanwhile left no event behind.
  if (!process.connected) onDisconnect();
  await side.warm().catch(() => {});
  const ready: SpareReadyMessage = { tend: 1, type: "spare" };
  // The master may have died while this spare booted: then there is no one to tell (and the
  // disconnect handler ends the spare), not an error to crash on.
  if (process.connected) process.send?.(ready, undefined, undefined, () => {});
}
