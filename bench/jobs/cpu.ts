/**
 * CPU time of processes from /proc (Linux): the bench's worker children, and the PostgreSQL
 * backends serving one database (found by the database name in their process title), so that a
 * run can say how many CPU microseconds a job cost in Node and in PostgreSQL.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux port in use). */
const TICKS_PER_SECOND = 100;

/** utime + stime of `pid` in ms, or null when the process is gone. */
export function cpuMsOf(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command (field 2) may hold spaces and parentheses: fields after it follow the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** Sum of the CPU ms of `pids` now (gone processes count 0). */
export function cpuMsOfAll(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuMsOf(pid) ?? 0), 0);
}

/** Pids of PostgreSQL backends connected to `database` (their title: "postgres: ... <user> <database> <host> ..."). */
export function backendsOf(database: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (cmdline.startsWith("postgres: ") && cmdline.split(" ").includes(database)) out.push(Number(entry));
  }
  return out;
}

/**
 * Follows the CPU time of one database's backends over a run: samples every `everyMs` (so that a
 * backend that exits mid-run loses at most one interval), counting from each backend's time at
 * `start()` (0 for backends that appear later). `stop()` returns the total in ms.
 */
export class BackendCpu {
  readonly #database: string;
  readonly #everyMs: number;
  readonly #baseline = new Map<number, number>();
  readonly #last = new Map<number, number>();
  readonly #onBackend: ((pid: number) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** `onBackend` is called once for each backend, when first seen (at `start()` or a sample). */
  constructor(database: string, everyMs = 200, onBackend?: (pid: number) => void) {
    this.#database = database;
    this.#everyMs = everyMs;
    this.#onBackend = onBackend;
  }

  start(): void {
    for (const pid of backendsOf(this.#database)) {
      const ms = cpuMsOf(pid);
      if (ms !== null) {
        this.#baseline.set(pid, ms);
        this.#last.set(pid, ms);
        this.#onBackend?.(pid);
      }
    }
    this.#timer = setInterval(() => this.#sample(), this.#everyMs);
  }

  #sample(): void {
    for (const pid of backendsOf(this.#database)) {
      const ms = cpuMsOf(pid);
      if (ms === null) continue;
      if (!this.#last.has(pid)) this.#onBackend?.(pid);
      this.#last.set(pid, ms);
    }
  }

  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    let total = 0;
    for (const [pid, ms] of this.#last) total += ms - (this.#baseline.get(pid) ?? 0);
    return total;
  }
}

/**
 * Pins `pid` (every thread of it) to CPU `cpu` with taskset(1). Returns false when that failed
 * (taskset missing, the process gone, the CPU absent).
 */
export function pinToCpu(pid: number, cpu: number): boolean {
  // `-a` walks the process's threads one by one: a thread that ends during the walk fails it, so
  // the walk is tried again (a process that ended fails every time).
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = spawnSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], { stdio: "ignore" });
    if (r.status === 0) return true;
  }
  return false;
}
