import type { InboxObserver } from "./observer.ts";
import type { Duration } from "../lifecycle/index.ts";
import type { Logger } from "../log/index.ts";
import type { MatchOption } from "./match.ts";

/** The claimed file handed to `process`. */
export interface InboxFile {
  /** The file's name as it arrived in the inbox. Data, not a path: never join it into a path yourself. */
  readonly name: string;
  /** Where the claimed file is now (inside this process's processing folder). Read it from here. */
  readonly path: string;
  /** Size in bytes when claimed. */
  readonly size: number;
  /** Last modification time when claimed. */
  readonly mtime: Date;
  /** True when the file was recovered from a process that died while holding it. */
  readonly recovered: boolean;
}

/** Data accepted by `ctx.writeOutput`. */
export type OutputData =
  string | Uint8Array | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

/** The per-attempt context handed to `process`. */
export interface InboxContext {
  /**
   * Aborts when the file must be given up: its `timeout` ran out, or the inbox is stopping and its
   * `drainTimeout` ran out. A plain stop does NOT abort it: in-flight files are allowed to finish.
   */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
  /** Logger bound to this file (`part: "inbox"`, `file`, `attempt`). */
  readonly log: Logger;
  /**
   * Stages an output file named `name` in the output folder. Outputs become visible, atomically and
   * durably, only once `process` returns successfully; a failed attempt leaves none behind. Resolves
   * with the path the output will have. Rejects with `TEND_E_INBOX_OUTPUT_NAME` for a name that is
   * not a plain file name.
   */
  writeOutput(name: string, data: OutputData): Promise<string>;
}

/** The function that handles one file. Throwing fails the attempt (retried, then moved to failed/). */
export type ProcessFile = (file: InboxFile, ctx: InboxContext) => Promise<void> | void;

/** Options of {@link createInbox}. */
export interface InboxOptions {
  /** The folder producers drop files into. Created if missing. */
  dir: string;
  /** Handles one claimed file. */
  process: ProcessFile;
  /** Task name; default `inbox:<dir>`. */
  name?: string;
  /** Which names to claim (default: all). Temporary and dot names are never claimed. */
  match?: MatchOption;
  /** Files processed at once by this inbox (default 1). */
  concurrency?: number;
  /** Extra attempts after a failure before the file goes to failed/ (default 2). */
  retries?: number;
  /** Delay before the first retry, doubled for each further one, at most 30 s (default "1s"). */
  retryDelay?: Duration;
  /** What happens to an input once its outputs are durable: moved to `doneDir` (default) or deleted. */
  onDone?: "move" | "delete";
  /** Where `writeOutput` puts files (default `<dir>/out`). May be on another filesystem. */
  outDir?: string;
  /** Parent of the per-process claim folders (default `<dir>/.processing`). Same filesystem as `dir`. */
  processingDir?: string;
  /** Where finished inputs go (default `<dir>/done`). Same filesystem as `dir`. */
  doneDir?: string;
  /** Where failed inputs and their `.error.json` sidecars go (default `<dir>/failed`). Same filesystem as `dir`. */
  failedDir?: string;
  /**
   * How long a file's size and mtime must stay unchanged before it is claimed (default "1s"). This
   * is the fallback for producers that write in place; set 0 when every producer writes under a
   * temporary name and renames.
   */
  settle?: Duration;
  /** Period of the full rescan, the source of truth when file events are lost (default "2s"). */
  rescan?: Duration;
  /** Use file-system events as a hint to scan at once (default true). */
  watch?: boolean;
  /** Time limit of one attempt; on expiry `ctx.signal` aborts and the attempt fails (default none). */
  timeout?: Duration;
  /** On stop, how long in-flight files may still run before their `ctx.signal` aborts (default "20s"). */
  drainTimeout?: Duration;
  /** A claim folder of a process on another host counts as abandoned after this long without a heartbeat (default "30s"). */
  leaseTtl?: Duration;
  /**
   * When folders are deleted while the inbox runs, how long it keeps trying to recreate them
   * (processing paused) before its task fails with `TEND_E_INBOX_FOLDER_GONE` (default "30s").
   */
  folderTimeout?: Duration;
}

/** Dependencies of {@link createInbox}. */
export interface InboxDeps {
  log: Logger;
  /** What watches the inbox's files (the app's metrics and error hook). */
  observer: InboxObserver;
}

/** Counters of one inbox since it was created, for logs and a metrics registry. */
export interface InboxCounters {
  /** Files taken from the inbox folder by this inbox. */
  claimed: number;
  /** Files adopted from the claim folder of a process that died. */
  recovered: number;
  /** Files whose outputs were committed and which moved to done/ (or were deleted). */
  done: number;
  /** Files moved to failed/ after their last attempt. */
  failed: number;
  /** Attempts that failed and were retried. */
  retried: number;
  /** Files handed back to the inbox unfinished on stop. */
  returned: number;
  /** Files being processed right now. */
  inFlight: number;
  /** Files found complete and waiting for a free slot (as of the last scan). */
  backlog: number;
  /** Sum of processing durations of done and failed files, in ms. */
  processingMsTotal: number;
  /** Longest processing duration of one file, in ms. */
  processingMsMax: number;
}
