/**
 * What every job system under test offers the bench's child processes (bench/jobs/child.ts). Each
 * system lives in its own module under bench/jobs/systems/, imported only by the child that runs
 * it, so that a process never loads another system's code.
 */

/** Every bench job's payload: its index, and `t` on latency probes. */
export interface BenchPayload {
  i: number;
  t?: boolean;
}

/** One system opened on one database, in one process. */
export interface BenchSystem {
  /** Enqueues one no-op job per index with the system's bulk call (or its nearest equivalent). */
  enqueueMany(indexes: readonly number[]): Promise<void>;
  /** Enqueues one job with the system's single-job call. */
  enqueueOne(payload: BenchPayload): Promise<void>;
  /** Starts the worker; `onJob` is called at the start of every handler call. */
  startWorker(onJob: (payload: BenchPayload) => void): Promise<void>;
  /** Jobs not finished, as the system's own API reports them (only systems that have one). */
  unfinished?(): Promise<number>;
  /** The worker's own counters (only systems that keep them), for diagnosis. */
  counters?(): Record<string, number>;
  /** Stops the worker (if started) and closes everything. */
  close(): Promise<void>;
}

/** Options a system is opened with: numbers and flags, chosen by the harness (bench/jobs/catalogue.ts). */
export type SystemOptions = Readonly<Record<string, number | string | boolean>>;

/** Every system module exports `open` of this type. */
export type OpenSystem = (url: string, options: SystemOptions) => Promise<BenchSystem>;

/** The name of the job kind / task / queue every system uses. */
export const BENCH_KIND = "bench";

/** A number option, or `fallback` when absent; throws on a value of another type. */
export function numberOption(options: SystemOptions, name: string, fallback?: number): number {
  const value = options[name] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value))
    throw new Error(`bench system option ${name}: expected a number, got ${String(value)}`);
  return value;
}

/** Parses a payload that arrives as JSON text or as an object. */
export function asPayload(data: unknown): BenchPayload {
  const value: unknown = typeof data === "string" ? JSON.parse(data) : data;
  if (value === null || typeof value !== "object" || typeof (value as BenchPayload).i !== "number")
    throw new Error(`bench job payload without an index: ${JSON.stringify(value)}`);
  return value as BenchPayload;
}
