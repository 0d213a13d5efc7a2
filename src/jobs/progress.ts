/** Largest progress value, in bytes of JSON. */
export const MAX_PROGRESS_BYTES = 4096;

/**
 * Pure: how long to wait before the next progress write, given when the last one was sent (ms on
 * a monotonic clock; -Infinity when none was), the time now and the least interval between writes.
 *
 * @example
 * ```ts
 * progressWriteDelay(-Infinity, 5_000, 1_000); // 0: nothing written yet, write at once
 * progressWriteDelay(4_800, 5_000, 1_000); // 800
 * ```
 */
export function progressWriteDelay(lastWriteAt: number, now: number, intervalMs: number): number {
  return Math.max(0, lastWriteAt + intervalMs - now);
}

/**
 * The progress of one running attempt, written through `write` at most once per `intervalMs`:
 * the latest value wins, values set between writes are never written, and `flush()` writes the
 * last one before the attempt's outcome. `write` must not reject (it logs its own errors).
 *
 * @example
 * ```ts
 * const reporter = new ProgressReporter((text) => store.jobs.progress([{ ...ref, progress: text }]).then(() => {}), 1_000);
 * reporter.set('{"done":1}');
 * await reporter.flush();
 * ```
 */
export class ProgressReporter {
  readonly #write: (text: string) => Promise<void>;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #pending: string | null = null;
  #lastWriteAt = -Infinity;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  #closed = false;

  constructor(write: (text: string) => Promise<void>, intervalMs: number, now = () => performance.now()) {
    this.#write = write;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Sets the latest value (already encoded); written now, or when the interval since the last write has passed. */
  set(text: string): void {
    if (this.#closed) return;
    this.#pending = text;
    this.#schedule();
  }

  /** Writes the latest value not yet written (after any write in flight); later `set`s are ignored. */
  async flush(): Promise<void> {
    this.#closed = true;
    this.#clearTimer();
    if (this.#inFlight !== null) await this.#inFlight;
    const text = this.#pending;
    this.#pending = null;
    if (text !== null) await this.#write(text);
  }

  /** Drops what was not written (the attempt lost its lease); later `set`s are ignored. */
  close(): void {
    this.#closed = true;
    this.#pending = null;
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    // A write in flight or a timer armed picks the latest value up when it fires.
    if (this.#timer !== null || this.#inFlight !== null) return;
    const delay = progressWriteDelay(this.#lastWriteAt, this.#now(), this.#intervalMs);
    if (delay === 0) {
      this.#send();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#send();
    }, delay);
    this.#timer.unref();
  }

  #send(): void {
    const text = this.#pending;
    if (text === null || this.#closed) return;
    this.#pending = null;
    this.#lastWriteAt = this.#now();
    this.#inFlight = this.#write(text).finally(() => {
      this.#inFlight = null;
      if (this.#pending !== null && !this.#closed) this.#schedule();
    });
  }
}
