/**
 * The spare worker launcher. The supervisor keeps one spare process booted in advance (Node and
 * its TypeScript loader started, which is most of a worker's start time) so that a dead worker is
 * replaced in a fraction of a cold start; it also loads tend's own modules in advance. The spare waits for a `start` message, then takes on the
 * worker's environment and arguments and loads the program, which runs as if forked directly
 * (except that `import.meta.main` is false in it: call `app.main()` unconditionally).
 * An idle spare whose master is gone exits at once.
 *
 * It sits on tend's top floor, beside src/index.ts: a process entry point that loads the whole of
 * tend ahead of the program (the supervisor only names its file, see supervise/spare.ts).
 */
import { pathToFileURL } from "node:url";
import { preloadDriver } from "./store/index.ts";
import { isStartMessage, type SpareReadyMessage, SUPERVISE_ENV } from "./supervise/index.ts";

const parentPid = process.ppid;
const onDisconnect = (): void => process.exit(0);
const watch = setInterval(() => {
  if (process.ppid !== parentPid) process.exit(0);
}, 500);

function onMessage(message: unknown): void {
  if (!isStartMessage(message)) return;
  process.off("message", onMessage);
  process.off("disconnect", onDisconnect);
  clearInterval(watch);
  for (const key of Object.keys(process.env)) if (!(key in message.env)) delete process.env[key];
  Object.assign(process.env, message.env);
  process.argv = [process.argv[0] ?? process.execPath, message.program, ...message.args];
  import(pathToFileURL(message.program).href).catch((err: unknown) => {
    process.stderr.write(
      `tend: the program ${message.program} failed to load: ${(err as Error)?.stack ?? String(err)}\n`,
    );
    process.exit(1);
  });
}

/**
 * Loads tend's own modules while idle, so that the program finds them already evaluated (its
 * `import "tend"` resolves to the same files). Module evaluation in tend has no side effects and
 * reads no environment; a failure here only means a colder start.
 */
async function warm(): Promise<void> {
  const url = process.env[SUPERVISE_ENV.databaseUrl] ?? "";
  await Promise.allSettled([import("./index.ts"), preloadDriver(url)]);
}

process.once("disconnect", onDisconnect);
process.on("message", onMessage);
// tend's modules loaded before these listeners: a master that died meanwhile left no event behind.
if (!process.connected) onDisconnect();
await warm();
const ready: SpareReadyMessage = { tend: 1, type: "spare" };
// The master may have died while this spare booted: then there is no one to tell (and the
// disconnect handler ends the spare), not an error to crash on.
if (process.connected) process.send?.(ready, undefined, undefined, () => {});
