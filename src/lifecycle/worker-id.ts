import { hostname } from "node:os";

/** The identity made for this process when TEND_WORKER_ID is not set (once, on first use). */
let made: string | undefined;

/**
 * This process's identity as a worker, the one the job worker records on the jobs it runs and
 * convergers hold their leases under: env `TEND_WORKER_ID` when set (the supervisor sets it for
 * each of its workers), else `<hostname>:<pid>:<random>`, made once per process so that every part
 * of the process uses the same one, and a restarted process is a new worker. An explicit option
 * (`jobs.workerId`, a converger's `holderId`) overrides it.
 *
 * @example
 * ```ts
 * defaultWorkerId(); // "web-1:4242:9f3a0c1d", or the value of TEND_WORKER_ID
 * ```
 */
export function defaultWorkerId(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env["TEND_WORKER_ID"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  made ??= `${hostname()}:${process.pid}:${randomHex()}`;
  return made;
}

/**
 * Four random bytes as hex. node:crypto is loaded here, on first use, not at import: loading it
 * costs a program that never asks for a worker id (a Manager alone) several milliseconds of start-up.
 */
function randomHex(): string {
  return process.getBuiltinModule("node:crypto").randomBytes(4).toString("hex");
}
