import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { checkString, TendError } from "../errors/index.ts";
import type { QueueStats } from "../store/index.ts";

/** One worker in the supervisor's status view. */
export interface WorkerStatus {
  id: string;
  slot: number;
  pid: number;
  state: "starting" | "ready" | "stopping" | "exited";
  /** Being replaced by a rolling restart. */
  retiring: boolean;
  startedAt: string;
  uptimeMs: number;
  /** Restarts of this worker's slot so far. */
  restarts: number;
  inFlight: number;
  lastHeartbeatAt: string | null;
  lastCompletionAt: string | null;
}

/** The supervisor's view of itself and its workers, written to the status file. */
export interface SupervisorStatus {
  version: 1;
  masterPid: number;
  program: string;
  state: "starting" | "running" | "stopping" | "stopped" | "gave-up";
  startedAt: string;
  updatedAt: string;
  min: number;
  max: number;
  desired: number;
  restartsTotal: number;
  /** Restarts inside the restart-intensity window, and the limit. */
  restartsInWindow: number;
  maxRestarts: number;
  restartPeriodMs: number;
  /** The summed queue statistics the last scaling decision used (null: none read yet). */
  queue: QueueStats | null;
  lastScale: { at: string; from: number; to: number; reason: string } | null;
  /** Pid of the booted spare process waiting to become the next worker (null: none). */
  sparePid: number | null;
  workers: WorkerStatus[];
  /**
   * PostgreSQL: every master registered in the fleet table as this master last read it (itself
   * included), with whether its lease runs. Absent on SQLite.
   */
  fleet?: Array<{ id: string; host: string; pid: number; alive: boolean; desired: number; workers: number }>;
}

/**
 * Writes the status file atomically (a temporary file in the same folder, then rename), so that
 * a reader never sees half a file.
 *
 * @example
 * ```ts
 * await writeStatusFile("./var/tend-supervisor.json", supervisor.status());
 * ```
 */
export async function writeStatusFile(path: string, status: SupervisorStatus): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}

/**
 * Reads and checks a status file; throws TEND_E_SUPERVISE_STATUS_UNREADABLE when it is missing
 * or not a supervisor status.
 *
 * @example
 * ```ts
 * const status = await readStatusFile("./var/tend-supervisor.json");
 * ```
 */
export async function readStatusFile(path: string): Promise<SupervisorStatus> {
  checkString("TEND_E_SUPERVISE_INVALID_OPTION", "status file path", path, "the path of a status file");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new TendError(
      "TEND_E_SUPERVISE_STATUS_UNREADABLE",
      `No supervisor status at ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}): the supervisor is not running from this folder, or it writes its status elsewhere (pass the same --status-file).`,
      { details: { path }, cause: err },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TendError(
      "TEND_E_SUPERVISE_STATUS_UNREADABLE",
      `The supervisor status file ${path} is not valid JSON.`,
      {
        details: { path },
        cause: err,
      },
    );
  }
  const s = parsed as Partial<SupervisorStatus> | null;
  if (
    s === null ||
    typeof s !== "object" ||
    s.version !== 1 ||
    typeof s.masterPid !== "number" ||
    !Array.isArray(s.workers)
  ) {
    throw new TendError(
      "TEND_E_SUPERVISE_STATUS_UNREADABLE",
      `The file ${path} is not a tend supervisor status file (version 1).`,
      {
        details: { path },
      },
    );
  }
  return s as SupervisorStatus;
}

/**
 * Writes a status file on demand, coalescing bursts: while one write runs, any number of further
 * requests make one more write, of the status as it is then.
 *
 * @example
 * ```ts
 * const writer = new StatusWriter("./var/tend-supervisor.json", () => supervisor.status(), log);
 * void writer.request();
 * await writer.request(); // on disk now
 * ```
 */
export class StatusWriter {
  readonly #path: string;
  readonly #snapshot: () => SupervisorStatus;
  readonly #onError: (err: unknown) => void;
  #chain: Promise<void> = Promise.resolve();
  #queued = false;

  constructor(path: string, snapshot: () => SupervisorStatus, onError: (err: unknown) => void) {
    this.#path = path;
    this.#snapshot = snapshot;
    this.#onError = onError;
  }

  /** Queues a write (unless one is queued already); resolves when the latest status is on disk. */
  request(): Promise<void> {
    if (this.#queued) return this.#chain;
    this.#queued = true;
    this.#chain = this.#chain.then(async () => {
      this.#queued = false;
      try {
        await writeStatusFile(this.#path, this.#snapshot());
      } catch (err) {
        this.#onError(err);
      }
    });
    return this.#chain;
  }
}
