import { lstat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TendError } from "../errors/index.ts";
import { linkSignals } from "../lifecycle/index.ts";
import type { Logger } from "../log/index.ts";
import { moveToFailed, removeOrphanSidecars } from "./failed-files.ts";
import { errnoCode, moveNoClobber, moveToFreeName } from "./folders.ts";
import { type ResolvedInboxOptions, retryDelayMs } from "./options.ts";
import { OutputStager } from "./outputs.ts";
import { type AttemptRecord, describeError, type FailureRecord, fileIdentity } from "./sidecar.ts";
import type { InboxCounters, InboxFile } from "./types.ts";
import type { InboxFileObservation, InboxObserver } from "./observer.ts";

/** Everything one file's processing needs from its inbox. */
export interface FileJobEnv {
  readonly options: ResolvedInboxOptions;
  /** Name of this inbox's claim folder (its owner id). */
  readonly ownerName: string;
  /** This inbox's claim folder. */
  readonly claimDir: string;
  readonly log: Logger;
  readonly counters: InboxCounters;
  /** Aborts when in-flight files must give up (the drain budget ran out). */
  readonly drainSignal: AbortSignal;
  /** Aborts when the inbox stops: no new retries are started. */
  readonly stopSignal: AbortSignal;
  readonly observer?: InboxObserver | undefined;
  /**
   * Throws TEND_E_INBOX_FOLDER_REPLACED when one of these folders ("output", "done", "failed") is
   * no longer the folder the inbox made (a symbolic link put in its place, say): checked right
   * before files are renamed into them.
   */
  readonly checkFolders: (roles: readonly string[]) => Promise<void>;
}

/** How one file's processing ended. */
export type FileJobOutcome = "done" | "failed" | "returned" | "stuck" | "gone";

/** A claimed file waiting to be processed. */
export interface ClaimedFile {
  /** Its name, the same in the inbox and in the claim folder. */
  readonly name: string;
  readonly recovered: boolean;
  /** When it was claimed (ms since epoch). */
  readonly claimedAt: number;
  /** Set when the file must fail without being processed (not a regular file, undecodable name). */
  readonly refuse?: TendError;
}

/**
 * Processes one claimed file to the end: attempts with retries, then commits its outputs and moves
 * it to done/ (or deletes it), or writes its sidecar and moves it to failed/, or hands it back to
 * the inbox when the inbox stops first. Never throws: trouble with this file stays with this file.
 */
export async function runFileJob(env: FileJobEnv, claimed: ClaimedFile): Promise<FileJobOutcome> {
  const watch = env.observer?.fileStarted?.(env.options.name, claimed.name);
  if (watch === undefined) return processFile(env, claimed, undefined);
  const watched: WatchedFile = { watch, error: null };
  let outcome: FileJobOutcome = "stuck";
  try {
    outcome = await processFile(env, claimed, watched);
    return outcome;
  } finally {
    watch.end(outcome, outcome === "failed" ? watched.error : null);
  }
}

/** A file's observation, and the error it failed with. */
interface WatchedFile {
  watch: InboxFileObservation;
  error: unknown;
}

async function processFile(
  env: FileJobEnv,
  claimed: ClaimedFile,
  watched: WatchedFile | undefined,
): Promise<FileJobOutcome> {
  const { options: o, counters } = env;
  const log = env.log.child({ file: claimed.name });
  const path = join(env.claimDir, claimed.name);
  const started = Date.now();
  const attemptLog: AttemptRecord[] = [];
  let size: number | undefined;
  try {
    const st = await lstat(path).catch((err: unknown) => {
      if (errnoCode(err) === "ENOENT") return undefined;
      throw err;
    });
    if (st === undefined) {
      log.warn("claimed file vanished from the claim folder before processing; something else removed it");
      return "gone";
    }
    size = st.size;
    if (claimed.refuse !== undefined || !st.isFile()) {
      const err =
        claimed.refuse ??
        new TendError(
          "TEND_E_INBOX_NOT_A_FILE",
          `Inbox entry ${JSON.stringify(claimed.name)} is not a regular file (a symlink, FIFO, socket or device); drop regular files only.`,
          { details: { name: claimed.name } },
        );
      if (watched !== undefined) watched.error = err;
      return await fail(env, claimed, path, err, attemptLog, size, started, log);
    }
    const file: InboxFile = {
      name: claimed.name,
      path,
      size: st.size,
      mtime: st.mtime,
      recovered: claimed.recovered,
    };
    let lastError: unknown;
    for (let attempt = 1; attempt <= o.retries + 1; attempt++) {
      const outputs = new OutputStager(o.outDir, env.ownerName);
      const attemptStart = Date.now();
      const result = await attemptOnce(env, file, attempt, outputs, log, watched?.watch);
      if (result.ok) {
        // A replaced folder is not retried: the file stays claimed (see FolderGuard.checkUnchanged).
        await env
          .checkFolders(o.onDone === "delete" ? ["output"] : ["output", "done"])
          .catch(async (err: unknown) => {
            await outputs.discard();
            throw err;
          });
        try {
          await outputs.commit();
          // A recovered file may have crashed an earlier process between its failure's two steps.
          const identity = claimed.recovered ? fileIdentity(await lstat(path)) : undefined;
          if (o.onDone === "delete") await unlink(path);
          const doneAs =
            o.onDone === "delete" ? undefined : await moveToFreeName(path, o.doneDir, claimed.name);
          if (identity !== undefined) await removeOrphanSidecars(o.failedDir, claimed.name, identity);
          const ms = Date.now() - started;
          counters.done++;
          recordDuration(counters, ms);
          env.observer?.fileEnded(env.options.name, claimed.name, "done", ms);
          log.info({ ms, attempt, outputs: result.outputs, doneAs }, "file done");
          return "done";
        } catch (err) {
          await outputs.discard();
          lastError = err;
          log.warn({ err, attempt }, "committing a processed file failed");
        }
      } else {
        await outputs.discard();
        if (env.drainSignal.aborted || (result.aborted && env.stopSignal.aborted)) {
          return await giveBack(env, claimed, path, log);
        }
        lastError = result.error;
      }
      attemptLog.push({
        attempt,
        startedAt: new Date(attemptStart).toISOString(),
        endedAt: new Date().toISOString(),
        error: describeError(lastError).message,
      });
      if (attempt <= o.retries) {
        const delay = retryDelayMs(attempt, o.retryDelayMs);
        counters.retried++;
        env.observer?.fileEnded(env.options.name, claimed.name, "retried", Date.now() - started, lastError);
        log.warn({ err: lastError, attempt, retryInMs: delay }, "processing a file failed; will retry");
        try {
          await sleep(delay, undefined, { signal: env.stopSignal });
        } catch {
          return await giveBack(env, claimed, path, log);
        }
      }
    }
    if (watched !== undefined) watched.error = lastError;
    return await fail(env, claimed, path, lastError, attemptLog, size, started, log);
  } catch (err) {
    if (await vanished(path)) {
      log.warn(
        { err },
        "the claimed file vanished from the claim folder while it was processed; something else removed it",
      );
      return "gone";
    }
    log.error(
      { err },
      "an inbox file could not be finished; it stays in the claim folder and is recovered at the next start",
    );
    return "stuck";
  }
}

/** Whether nothing is at `path` any more (false when it is there, or cannot be told). */
async function vanished(path: string): Promise<boolean> {
  return await lstat(path).then(
    () => false,
    (err: unknown) => errnoCode(err) === "ENOENT",
  );
}

type AttemptResult = { ok: true; outputs: number } | { ok: false; error: unknown; aborted: boolean };

async function attemptOnce(
  env: FileJobEnv,
  file: InboxFile,
  attempt: number,
  outputs: OutputStager,
  parentLog: Logger,
  watch: InboxFileObservation | undefined,
): Promise<AttemptResult> {
  const { options: o } = env;
  const timeout = new AbortController();
  const timer =
    o.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timeout.abort(
            new TendError(
              "TEND_E_INBOX_TIMEOUT",
              `Processing ${JSON.stringify(file.name)} took longer than the inbox timeout of ${o.timeoutMs} ms; raise \`timeout\` or make process() faster.`,
              { details: { name: file.name, timeoutMs: o.timeoutMs, attempt } },
            ),
          );
        }, o.timeoutMs);
  const link = linkSignals([env.drainSignal, timeout.signal]);
  const signal = link.signal;
  const log = parentLog.child({ attempt });
  try {
    const context = { signal, attempt, log, writeOutput: outputs.write };
    await (watch === undefined ? o.process(file, context) : watch.run(() => o.process(file, context)));
    await outputs.close();
    return { ok: true, outputs: outputs.size };
  } catch (err) {
    await outputs.close();
    const error = timeout.signal.aborted ? timeout.signal.reason : err;
    return { ok: false, error, aborted: signal.aborted };
  } finally {
    link.dispose();
    if (timer !== undefined) clearTimeout(timer);
  }
}

async function giveBack(
  env: FileJobEnv,
  claimed: ClaimedFile,
  path: string,
  log: Logger,
): Promise<FileJobOutcome> {
  const back = await moveNoClobber(path, join(env.options.dir, claimed.name));
  if (!back) {
    log.warn(
      "a file of the same name arrived meanwhile; the unfinished file stays in the claim folder and is recovered at the next start",
    );
    return "stuck";
  }
  env.counters.returned++;
  log.info("unfinished file handed back to the inbox");
  return "returned";
}

async function fail(
  env: FileJobEnv,
  claimed: ClaimedFile,
  path: string,
  err: unknown,
  attemptLog: AttemptRecord[],
  size: number | undefined,
  started: number,
  log: Logger,
): Promise<FileJobOutcome> {
  const { failedDir } = env.options;
  await env.checkFolders(["failed"]);
  const st = await lstat(path);
  const file = fileIdentity(st);
  const failedAt = new Date().toISOString();
  const sidecarFor = (failedAs: string): string => {
    const record: FailureRecord = {
      name: claimed.name,
      failedAs,
      error: describeError(err),
      attempts: attemptLog.length,
      attemptLog,
      claimedAt: new Date(claimed.claimedAt).toISOString(),
      failedAt,
      size,
      host: env.ownerName.split("~")[0] ?? "",
      pid: process.pid,
      file,
    };
    return `${JSON.stringify(record, null, 2)}\n`;
  };
  // Sidecar first (it takes the name), then the file beside it: see moveToFailed.
  const failedAs = await moveToFailed(failedDir, claimed.name, path, file, sidecarFor);
  const ms = Date.now() - started;
  env.counters.failed++;
  recordDuration(env.counters, ms);
  env.observer?.fileEnded(env.options.name, claimed.name, "failed", ms, err);
  log.warn(
    { err, attempts: attemptLog.length, failedAs, ms },
    "file failed; moved to the failed folder with an .error.json sidecar",
  );
  return "failed";
}

function recordDuration(counters: InboxCounters, ms: number): void {
  counters.processingMsTotal += ms;
  if (ms > counters.processingMsMax) counters.processingMsMax = ms;
}
