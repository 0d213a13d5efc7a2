import type { ResolvedOptions } from "./options.ts";
import { SUPERVISE_ENV } from "./protocol.ts";

const COMPILE_CACHE_ENV = "NODE_COMPILE_CACHE";

/**
 * The environment of a worker (or spare): the master's own, the configured extras, and the
 * supervisor's settings (heartbeat, orphan grace, master pid, database URL, compile cache).
 *
 * @example
 * ```ts
 * fork(program, [], { env: workerEnv(options, process.env, process.pid) });
 * ```
 */
export function workerEnv(
  options: ResolvedOptions,
  base: NodeJS.ProcessEnv,
  masterPid: number,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    ...options.env,
    [SUPERVISE_ENV.heartbeatMs]: String(options.heartbeatMs),
    [SUPERVISE_ENV.orphanGraceMs]: String(options.orphanGraceMs),
    [SUPERVISE_ENV.masterPid]: String(masterPid),
  };
  if (options.database !== undefined) env[SUPERVISE_ENV.databaseUrl] = options.database;
  if (options.compileCache !== null && env[COMPILE_CACHE_ENV] === undefined)
    env[COMPILE_CACHE_ENV] = options.compileCache;
  return env;
}
