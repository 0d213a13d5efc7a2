import { resolve } from "node:path";
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkObject,
  checkOneOf,
  checkString,
  invalidArgument,
  optionKeys,
  rejectUnknownKeys,
  TendError,
} from "../errors/index.ts";
import { MAX_TIMER_MS, parseDuration } from "../lifecycle/index.ts";
import { compileMatch } from "./match.ts";
import type { InboxOptions, ProcessFile } from "./types.ts";

/** Inbox options after validation, with every default filled in and folders made absolute. */
export interface ResolvedInboxOptions {
  readonly name: string;
  readonly dir: string;
  readonly outDir: string;
  readonly processingDir: string;
  readonly doneDir: string;
  readonly failedDir: string;
  readonly process: ProcessFile;
  readonly match: (name: string) => boolean;
  readonly concurrency: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly onDone: "move" | "delete";
  readonly settleMs: number;
  readonly rescanMs: number;
  readonly watch: boolean;
  readonly timeoutMs: number | undefined;
  readonly drainTimeoutMs: number;
  readonly leaseTtlMs: number;
  readonly folderTimeoutMs: number;
}

const ON_DONE = ["move", "delete"] as const;

const KEYS = optionKeys<InboxOptions>({
  dir: true,
  process: true,
  name: true,
  match: true,
  concurrency: true,
  retries: true,
  retryDelay: true,
  onDone: true,
  outDir: true,
  processingDir: true,
  doneDir: true,
  failedDir: true,
  settle: true,
  rescan: true,
  watch: true,
  timeout: true,
  drainTimeout: true,
  leaseTtl: true,
  folderTimeout: true,
});

function folder(value: unknown, name: string, fallback: string | undefined): string {
  if (value === undefined && fallback !== undefined) return resolve(fallback);
  if (typeof value !== "string" || value.trim() === "" || value.includes("\0")) {
    throw invalidArgument("TEND_E_INBOX_DIR", name, value, "a non-empty folder path");
  }
  return resolve(value);
}

function duration(value: unknown, name: string, fallback: number, positive: boolean): number {
  if (value === undefined) return fallback;
  return parseDuration(value, name, { code: "TEND_E_INBOX_DURATION", positive, max: MAX_TIMER_MS });
}

/**
 * Validates inbox options and fills in defaults. Throws a `TEND_E_INBOX_...` TendError naming the
 * first bad value. Pure apart from resolving relative folders against the working directory.
 *
 * @example
 * ```ts
 * const o = resolveInboxOptions({ dir: "./var/inbox", process: async () => {} });
 * o.doneDir; // "/abs/path/var/inbox/done"
 * ```
 */
export function resolveInboxOptions(options: InboxOptions): ResolvedInboxOptions {
  checkObject("TEND_E_INBOX_OPTIONS", "options", options, "an object such as { dir, process }");
  rejectUnknownKeys(
    `inbox options${typeof options.dir === "string" ? ` of ${options.dir}` : ""}`,
    options,
    KEYS,
  );
  const dir = folder(options.dir, "dir", undefined);
  checkFunction(
    "TEND_E_INBOX_PROCESS",
    "process",
    options.process,
    "a function (file, ctx) => Promise<void>",
  );
  if (options.name !== undefined) checkString("TEND_E_INBOX_NAME", "name", options.name);
  if (options.onDone !== undefined) checkOneOf("TEND_E_INBOX_ON_DONE", "onDone", options.onDone, ON_DONE);
  if (options.watch !== undefined) checkBoolean("TEND_E_INBOX_OPTIONS", "watch", options.watch);
  const resolved: ResolvedInboxOptions = {
    name: options.name ?? `inbox:${options.dir}`,
    dir,
    outDir: folder(options.outDir, "outDir", `${dir}/out`),
    processingDir: folder(options.processingDir, "processingDir", `${dir}/.processing`),
    doneDir: folder(options.doneDir, "doneDir", `${dir}/done`),
    failedDir: folder(options.failedDir, "failedDir", `${dir}/failed`),
    process: options.process,
    match: compileMatch(options.match),
    concurrency:
      options.concurrency === undefined
        ? 1
        : checkInteger("TEND_E_INBOX_CONCURRENCY", "concurrency", options.concurrency, 1),
    retries:
      options.retries === undefined ? 2 : checkInteger("TEND_E_INBOX_RETRIES", "retries", options.retries, 0),
    retryDelayMs: duration(options.retryDelay, "retryDelay", 1000, false),
    onDone: options.onDone ?? "move",
    settleMs: duration(options.settle, "settle", 1000, false),
    rescanMs: duration(options.rescan, "rescan", 2000, true),
    watch: options.watch ?? true,
    timeoutMs: options.timeout === undefined ? undefined : duration(options.timeout, "timeout", 0, true),
    drainTimeoutMs: duration(options.drainTimeout, "drainTimeout", 20_000, false),
    leaseTtlMs: duration(options.leaseTtl, "leaseTtl", 30_000, true),
    folderTimeoutMs: duration(options.folderTimeout, "folderTimeout", 30_000, true),
  };
  assertDistinctFolders(resolved);
  return resolved;
}

function assertDistinctFolders(o: ResolvedInboxOptions): void {
  const roles: [string, string][] = [
    ["dir", o.dir],
    ["outDir", o.outDir],
    ["processingDir", o.processingDir],
    ["doneDir", o.doneDir],
    ["failedDir", o.failedDir],
  ];
  for (let i = 0; i < roles.length; i++) {
    for (let j = i + 1; j < roles.length; j++) {
      const [a, pa] = roles[i] as [string, string];
      const [b, pb] = roles[j] as [string, string];
      if (pa === pb) {
        throw new TendError(
          "TEND_E_INBOX_FOLDER_CONFLICT",
          `Inbox options ${a} and ${b} both point at ${pa}; give each role its own folder (outputs in the inbox would be claimed as inputs).`,
          { details: { [a]: pa, [b]: pb } },
        );
      }
    }
  }
}

/**
 * Delay before retry number `retry` (1-based): `base`, doubled for each further retry, capped at 30 s
 * (or at `base` when that is longer).
 *
 * @example
 * ```ts
 * retryDelayMs(1, 1000); // 1000
 * retryDelayMs(3, 1000); // 4000
 * ```
 */
export function retryDelayMs(retry: number, baseMs: number): number {
  return Math.min(Math.max(30_000, baseMs), baseMs * 2 ** Math.max(0, retry - 1));
}
