import { setTimeout as sleep } from "node:timers/promises";

/**
 * One job system under test, on its own fresh database. A harness is used for one measurement
 * run: load, (analyze), process; or latency. Then closed.
 */
export interface SystemHarness {
  /** Bulk-enqueues `n` no-op jobs (in calls of `chunk`); returns elapsed ms. */
  load(n: number, chunk: number): Promise<number>;
  /** ANALYZE of the system's job table (same statistics for every system). */
  analyze(): Promise<void>;
  /** Starts the worker and returns elapsed ms until all `n` jobs are recorded complete in the database. */
  process(n: number): Promise<number>;
  /** Enqueue-to-handler-start latency of single jobs to an idle, listening worker (ms per sample). */
  latency(samples: number, warmup: number): Promise<number[]>;
  close(): Promise<void>;
}

export type HarnessFactory = () => Promise<SystemHarness>;

/** Settings every system runs with. */
export interface BenchSettings {
  concurrency: number;
  /** Upper bound on one processing run, so a stuck system fails the bench instead of hanging it. */
  timeoutMs: number;
}

/** Counts handler calls and resolves when a target is reached. */
export class HandlerCounter {
  count = 0;
  #target = Number.POSITIVE_INFINITY;
  #resolve: (() => void) | null = null;

  hit(): void {
    this.count++;
    if (this.count >= this.#target) this.#resolve?.();
  }

  /** Resolves once `target` handler calls happened; rejects after `timeoutMs`. */
  reached(target: number, timeoutMs: number, what: string): Promise<void> {
    this.#target = target;
    if (this.count >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`${what}: only ${this.count} of ${target} handlers ran within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * Polls `check` (a count of finished jobs in the database) until it reports `n`. Called only after
 * every handler ran, so it costs nothing while the system works.
 */
export async function untilRecorded(
  n: number,
  check: () => Promise<number>,
  timeoutMs: number,
  what: string,
) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const done = await check();
    if (done >= n) return;
    if (performance.now() > deadline)
      throw new Error(`${what}: ${done} of ${n} jobs recorded complete in time`);
    await sleep(2);
  }
}

/**
 * The latency loop shared by all systems: enqueue job i (timing from just before the call), wait
 * until its handler started (at most 20 ms, so a slow poller is still paced at low load), then a
 * gap of 5-10 ms. The first `warmup` jobs are not counted. `starts[i]` is set by the handler with performance.now().
 */
export async function latencyLoop(
  total: number,
  warmup: number,
  enqueue: (i: number) => Promise<unknown>,
  starts: Map<number, number>,
  timeoutMs: number,
): Promise<number[]> {
  const sent = new Map<number, number>();
  for (let i = 0; i < total + warmup; i++) {
    sent.set(i, performance.now());
    await enqueue(i);
    // Warm-up jobs are awaited fully: afterwards the worker is known to be listening and idle.
    const waitUntil = performance.now() + (i < warmup ? 5_000 : 20);
    while (!starts.has(i) && performance.now() < waitUntil) await sleep(1);
    await sleep(5 + Math.random() * 5);
  }
  const deadline = performance.now() + timeoutMs;
  while (starts.size < total + warmup) {
    if (performance.now() > deadline)
      throw new Error(`latency: ${starts.size} of ${total + warmup} jobs started`);
    await sleep(5);
  }
  const out: number[] = [];
  for (let i = warmup; i < total + warmup; i++) out.push(starts.get(i)! - sent.get(i)!);
  return out;
}

/** Splits 0..n-1 into arrays of at most `chunk` indexes. */
export function chunks(n: number, chunk: number): number[][] {
  const out: number[][] = [];
  for (let start = 0; start < n; start += chunk)
    out.push(Array.from({ length: Math.min(chunk, n - start) }, (_, k) => start + k));
  return out;
}
