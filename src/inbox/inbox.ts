import { utimes } from "node:fs/promises";
import { join } from "node:path";
import { optionKeys, rejectUnknownKeys, TendError } from "../errors/index.ts";
import type { Task } from "../lifecycle/index.ts";
import { createLogger, type Logger } from "../log/index.ts";
import { ClaimFolder } from "./claims.ts";
import { Discovery } from "./discovery.ts";
import { type ClaimedFile, type FileJobEnv, type FileJobOutcome, runFileJob } from "./file-job.ts";
import { FolderGuard } from "./folder-guard.ts";
import { errnoCode, prepareFolders } from "./folders.ts";
import { type ResolvedInboxOptions, resolveInboxOptions } from "./options.ts";
import { formatOwner, liveTokens, newOwner, type OwnerId } from "./owner.ts";
import { adoptClaimFolder, findDeadClaimFolders, removeDeadTemporaryOutputs } from "./recovery.ts";
import type { InboxObserver } from "./observer.ts";
import type { InboxCounters, InboxDeps, InboxOptions } from "./types.ts";

const DEPS_KEYS = optionKeys<InboxDeps>({ log: true, observer: true });

/** A folder inbox: a {@link Task} plus its counters. */
export interface Inbox extends Task {
  /** Live counters (claimed, done, failed, ...), for logs and metrics. */
  readonly counters: Readonly<InboxCounters>;
  /** The options in force, defaults filled in and folders absolute. */
  readonly options: ResolvedInboxOptions;
  /**
   * When the oldest file waiting to be claimed (complete, not yet taken) was first seen in the
   * folder (ms since epoch), or null when none waits or the inbox is not running.
   */
  oldestWaitingSince(): number | null;
}

/**
 * Creates a folder inbox: a Task that claims each complete file dropped into `dir` exactly once at
 * a time across processes, runs `process(file, ctx)` on it, commits its outputs atomically and moves
 * it to done/ (or, after `retries`, to failed/ with an `.error.json` sidecar). Files held by a process
 * that died are recovered at start. On stop it claims nothing more, lets in-flight files finish
 * within `drainTimeout` and hands unfinished ones back. See docs/inbox.md for the guarantees.
 * Options are checked at once; a bad one throws a `TEND_E_INBOX_...` TendError.
 *
 * @example
 * ```ts
 * const importer = createInbox(
 *   {
 *     dir: "./var/inbox",
 *     outDir: "./var/outbox",
 *     match: "*.csv",
 *     concurrency: 4,
 *     process: async (file, ctx) => {
 *       const text = await readFile(file.path, "utf8");
 *       await ctx.writeOutput(`${file.name}.json`, JSON.stringify({ rows: text.split("\n").length }));
 *     },
 *   },
 *   { log },
 * );
 * manager.run(importer);
 * ```
 */
export function createInbox(options: InboxOptions, deps?: Partial<InboxDeps>): Inbox {
  const resolved = resolveInboxOptions(options);
  rejectUnknownKeys(`dependencies of ${resolved.name}`, deps, DEPS_KEYS);
  const log = (deps?.log ?? createLogger()).child({ part: "inbox", inbox: resolved.name });
  return new FolderInbox(resolved, log, deps?.observer);
}

class FolderInbox implements Inbox {
  readonly name: string;
  readonly options: ResolvedInboxOptions;
  readonly counters: InboxCounters = {
    claimed: 0,
    recovered: 0,
    done: 0,
    failed: 0,
    retried: 0,
    returned: 0,
    inFlight: 0,
    backlog: 0,
    processingMsTotal: 0,
    processingMsMax: 0,
  };
  readonly #log: Logger;
  readonly #observer: InboxObserver | undefined;
  #running = false;
  #run: InboxRun | null = null;

  constructor(options: ResolvedInboxOptions, log: Logger, observer: InboxObserver | undefined) {
    this.name = options.name;
    this.options = options;
    this.#log = log;
    this.#observer = observer;
  }

  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) {
      throw new TendError(
        "TEND_E_INBOX_ALREADY_RUNNING",
        `Inbox ${this.name} is already running; run it once.`,
        {
          details: { name: this.name },
        },
      );
    }
    this.#running = true;
    try {
      this.#run = new InboxRun(this.options, this.#log, this.counters, signal, this.#observer);
      await this.#run.run();
    } finally {
      this.#running = false;
      this.#run = null;
    }
  }

  oldestWaitingSince(): number | null {
    return this.#run?.oldestWaitingSince() ?? null;
  }
}

/** One run of an inbox, from start to stop. */
class InboxRun {
  readonly #o: ResolvedInboxOptions;
  readonly #log: Logger;
  readonly #counters: InboxCounters;
  readonly #signal: AbortSignal;
  readonly #owner: OwnerId;
  readonly #ownerName: string;
  readonly #claims: ClaimFolder;
  readonly #drain = new AbortController();
  readonly #inFlight = new Map<string, Promise<FileJobOutcome>>();
  readonly #adopted: ClaimedFile[] = [];
  readonly #discovery: Discovery;
  readonly #guard: FolderGuard;
  /** Set while deleted folders are being recreated: nothing is claimed meanwhile. */
  #repairing: Promise<void> | undefined;
  /** Set when deleted folders could not be recreated: the run fails with it. */
  #fatal: unknown;
  #wake: (() => void) | undefined;
  #poked = false;
  #recovering: Promise<void> | undefined;

  readonly #observer: InboxObserver | undefined;

  constructor(
    o: ResolvedInboxOptions,
    log: Logger,
    counters: InboxCounters,
    signal: AbortSignal,
    observer: InboxObserver | undefined,
  ) {
    this.#observer = observer;
    this.#o = o;
    this.#log = log;
    this.#counters = counters;
    this.#signal = signal;
    this.#owner = newOwner();
    this.#ownerName = formatOwner(this.#owner);
    this.#claims = new ClaimFolder(o.dir, join(o.processingDir, this.#ownerName), log);
    this.#guard = new FolderGuard(o, this.#claims.path, log);
    this.#discovery = new Discovery({
      dir: o.dir,
      match: o.match,
      settleMs: o.settleMs,
      watch: o.watch,
      log,
      busy: (name) => this.#claims.holds(name),
      onReady: () => this.#poke(),
      onBacklog: (ready) => {
        this.#counters.backlog = ready;
      },
      onFolderMissing: () => this.#folderMissing(),
    });
  }

  oldestWaitingSince(): number | null {
    return this.#discovery.oldestReadySince();
  }

  async run(): Promise<void> {
    if (this.#signal.aborted) return;
    const o = this.#o;
    await prepareFolders(o);
    liveTokens.add(this.#owner.token);
    try {
      await this.#claims.create();
      await this.#guard.capture();
    } catch (err) {
      liveTokens.delete(this.#owner.token);
      throw err;
    }
    const onAbort = () => this.#poke();
    this.#signal.addEventListener("abort", onAbort, { once: true });
    let rescan: NodeJS.Timeout | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    try {
      await this.#recover(true);
      this.#discovery.start();
      this.#discovery.requestFullScan();
      rescan = setInterval(() => {
        if (this.#repairing !== undefined) return;
        this.#discovery.requestFullScan();
        void this.#recover(false);
        void this.#guard.intact().then(
          (ok) => ok || this.#folderMissing(),
          () => this.#folderMissing(),
        );
      }, o.rescanMs);
      heartbeat = setInterval(
        () => void utimes(this.#claims.path, new Date(), new Date()).catch(() => {}),
        Math.max(1000, o.leaseTtlMs / 3),
      );
      heartbeat.unref();
      this.#log.info(
        {
          dir: o.dir,
          outDir: o.outDir,
          claimDir: this.#claims.path,
          concurrency: o.concurrency,
          settleMs: o.settleMs,
          watch: o.watch,
        },
        "inbox started",
      );
      await this.#loop();
    } finally {
      this.#signal.removeEventListener("abort", onAbort);
      if (rescan !== undefined) clearInterval(rescan);
      this.#discovery.close();
      await this.#drainInFlight();
      if (heartbeat !== undefined) clearInterval(heartbeat);
      await this.#recovering?.catch(() => {});
      await this.#discovery.idle().catch(() => {});
      // A last pass over dead owners' claim folders (an owner may have died since the last rescan):
      // their files are handed back to the inbox folder below with the other adopted ones, rather
      // than left in a dead process's folder until some inbox starts again.
      if (this.#fatal === undefined)
        await this.#recoverOnce(false, true).catch((err: unknown) =>
          this.#log.warn(
            { err },
            "recovering files of dead inbox processes at stop failed; the next start does",
          ),
        );
      await this.#returnAdopted();
      liveTokens.delete(this.#owner.token);
      if (!(await this.#claims.removeIfEmpty())) {
        this.#log.warn(
          { claimDir: this.#claims.path },
          "files remain in this inbox's claim folder; the next start recovers them",
        );
      }
      this.#log.info({ ...this.#counters }, "inbox stopped");
    }
    if (this.#fatal !== undefined) throw this.#fatal;
  }

  /**
   * Something deleted one of the inbox's folders: pause claiming and recreate them (see
   * FolderGuard); then watch and scan again. If they cannot be recreated in time the run fails.
   */
  #folderMissing(): void {
    if (this.#repairing !== undefined || this.#fatal !== undefined || this.#signal.aborted) return;
    this.#repairing = this.#guard
      .repair(this.#signal)
      .then(
        () => {
          this.#discovery.restartWatch();
          this.#discovery.requestFullScan();
        },
        (err: unknown) => {
          // The task fails with it (the Manager logs it and stops the program).
          this.#fatal = err;
        },
      )
      .finally(() => {
        this.#repairing = undefined;
        this.#poke();
      });
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    if (wake === undefined) this.#poked = true;
    else wake();
  }

  async #loop(): Promise<void> {
    while (!this.#signal.aborted && this.#fatal === undefined) {
      while (this.#inFlight.size < this.#o.concurrency && !this.#signal.aborted) {
        const claimed = await this.#nextClaim();
        if (claimed === undefined) break;
        this.#start(claimed);
      }
      if (this.#signal.aborted) break;
      if (this.#poked) {
        this.#poked = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** The next file to process, claimed into this inbox's claim folder. */
  async #nextClaim(): Promise<ClaimedFile | undefined> {
    if (this.#repairing !== undefined || this.#fatal !== undefined) return undefined;
    const adopted = this.#adopted.shift();
    if (adopted !== undefined) return adopted;
    for (;;) {
      const strange = this.#discovery.nextStrange();
      if (strange !== undefined) {
        const taken = await this.#claims.claimStrange(strange);
        if (taken === undefined) continue;
        this.#counters.claimed++;
        return { ...taken, recovered: false, claimedAt: Date.now() };
      }
      const ready = this.#discovery.next();
      if (ready === undefined) return undefined;
      const result = await this.#claims.claim(ready.name, ready.settled);
      if (result === "folder-missing") {
        // The name comes back with the full scan that follows the repair.
        this.#folderMissing();
        return undefined;
      }
      if (result !== "claimed") continue;
      this.#counters.claimed++;
      this.#log.debug({ file: ready.name }, "file claimed");
      return { name: ready.name, recovered: false, claimedAt: Date.now() };
    }
  }

  #start(claimed: ClaimedFile): void {
    const env: FileJobEnv = {
      options: this.#o,
      ownerName: this.#ownerName,
      claimDir: this.#claims.path,
      log: this.#log,
      counters: this.#counters,
      drainSignal: this.#drain.signal,
      stopSignal: this.#signal,
      observer: this.#observer,
      checkFolders: (roles) => this.#guard.checkUnchanged(roles),
    };
    this.#counters.inFlight++;
    const job = runFileJob(env, claimed).catch((): FileJobOutcome => "stuck");
    void job.then((outcome) => {
      this.#counters.inFlight--;
      this.#inFlight.delete(claimed.name);
      // A stuck file stays in the claim folder: keep its name held so nothing is renamed onto it
      // (unless the file is gone from there, deleted with the folder).
      if (outcome !== "stuck") this.#claims.release(claimed.name);
      else void this.#claims.releaseIfVanished(claimed.name);
      // A file of the same name may have been left waiting in the inbox meanwhile.
      this.#discovery.hint(claimed.name);
      this.#poke();
    });
    this.#inFlight.set(claimed.name, job);
  }

  /** Adopts files from claim folders of dead owners; `atStart` also cleans their temporary outputs. */
  #recover(atStart: boolean): Promise<void> {
    if (this.#recovering !== undefined) return this.#recovering;
    this.#recovering = this.#recoverOnce(atStart)
      .catch((err: unknown) => {
        const code = errnoCode(err);
        if (!atStart && (code === "ENOENT" || code === "ENOTDIR")) this.#folderMissing();
        else this.#log.warn({ err }, "recovering files of dead inbox processes failed; will retry");
      })
      .finally(() => {
        this.#recovering = undefined;
      });
    return this.#recovering;
  }

  async #recoverOnce(atStart: boolean, stopping = false): Promise<void> {
    if (this.#signal.aborted && !stopping) return;
    const o = this.#o;
    const dead = await findDeadClaimFolders(o.processingDir, this.#owner, o.leaseTtlMs);
    for (const folder of dead) {
      const adopted = await adoptClaimFolder(
        join(o.processingDir, folder),
        this.#claims.path,
        o,
        (name) => this.#claims.reserve(name),
        (name) => this.#claims.release(name),
      );
      if (adopted.length > 0) {
        this.#log.warn(
          { from: folder, files: adopted.length },
          "recovered files from an inbox process that died; processing them again",
        );
      }
      for (const name of adopted) {
        this.#counters.recovered++;
        this.#adopted.push({ name, recovered: true, claimedAt: Date.now() });
      }
    }
    if (atStart || dead.length > 0) {
      const removed = await removeDeadTemporaryOutputs(o.outDir, o.processingDir, this.#owner, o.leaseTtlMs);
      if (removed > 0) this.#log.info({ removed }, "removed partial outputs left by dead inbox processes");
    }
    if (this.#adopted.length > 0) this.#poke();
  }

  /** Lets in-flight files finish within the drain budget, then aborts them. */
  async #drainInFlight(): Promise<void> {
    if (this.#inFlight.size === 0) return;
    this.#log.info(
      { inFlight: this.#inFlight.size, drainTimeoutMs: this.#o.drainTimeoutMs },
      "inbox stopping; letting in-flight files finish",
    );
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#o.drainTimeoutMs);
    });
    const all = async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.values()]);
    };
    await Promise.race([all(), budget]);
    clearTimeout(timer);
    if (this.#inFlight.size > 0) {
      this.#log.warn(
        { inFlight: this.#inFlight.size },
        "drain budget spent; aborting in-flight files and handing them back",
      );
      this.#drain.abort(
        new TendError("TEND_E_INBOX_TIMEOUT", "The inbox is stopping and its drain budget is spent."),
      );
      await all();
    }
  }

  /** Files adopted from dead owners but not started: handed back to the inbox folder. */
  async #returnAdopted(): Promise<void> {
    for (const claimed of this.#adopted.splice(0)) {
      if (await this.#claims.handBack(claimed.name)) this.#counters.returned++;
    }
  }
}
