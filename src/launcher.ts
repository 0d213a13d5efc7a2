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
import { SUPERVISE_ENV, serveAsSpare } from "./supervise/index.ts";

/**
 * Loads tend's own modules while idle, so that the program finds them already evaluated (its
 * `import "tend"` resolves to the same files). Module evaluation in tend has no side effects and
 * reads no environment; a failure here only means a colder start.
 */
async function warm(): Promise<void> {
  const url = process.env[SUPERVISE_ENV.databaseUrl] ?? "";
  await Promise.allSettled([import("./index.ts"), preloadDriver(url)]);
}

await serveAsSpare({ load: (program) => import(pathToFileURL(program).href), warm });
