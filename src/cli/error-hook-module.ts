import { statSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { invalidArgument, TendError } from "../errors/index.ts";
import type { SupervisorErrorHook } from "../supervise/index.ts";

/**
 * Loads the crash hook a command line names (`tend supervise --on-error <module>`): the module's
 * default export, or its export named `onError`, which must be a function `(error, context)`.
 * The path is resolved from the working directory. A missing file, a module that fails to load and
 * a module without such a function each fail with TEND_E_SUPERVISE_INVALID_HOOK, before any
 * worker starts.
 *
 * @example
 * ```ts
 * const onError = await loadErrorHookModule("./report-crash.mjs");
 * ```
 */
export async function loadErrorHookModule(path: string): Promise<SupervisorErrorHook> {
  const file = resolve(path);
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile)
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_HOOK",
      "--on-error",
      path,
      "the path of an existing module file",
    );
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new TendError(
      "TEND_E_SUPERVISE_INVALID_HOOK",
      `The --on-error module ${path} failed to load: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err, details: { name: "--on-error", value: path } },
    );
  }
  const hook = typeof loaded["default"] === "function" ? loaded["default"] : loaded["onError"];
  if (typeof hook !== "function")
    throw invalidArgument(
      "TEND_E_SUPERVISE_INVALID_HOOK",
      "--on-error",
      path,
      "a module whose default export (or export named onError) is a function (error, context)",
    );
  return hook as SupervisorErrorHook;
}
