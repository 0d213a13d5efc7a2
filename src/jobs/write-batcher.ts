/**
 * Groups writes that arrive while a previous write is in flight into one call, so that a busy
 * worker records completions in batches (one round trip for many jobs) while an idle one records
 * each at once. Each `add` resolves when its item's batch was written (or rejects with its error).
 */
export class WriteBatcher<T, R> {
  readonly #write: (items: T[]) => Promise<R>;
  readonly #maxBatch: number;
  #pending: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  #running: Promise<void> | null = null;

  constructor(write: (items: T[]) => Promise<R>, maxBatch = 1000) {
    this.#write = write;
    this.#maxBatch = maxBatch;
  }

  /** Number of items waiting or being written. */
  get size(): number {
    return this.#pending.length;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#running === null) this.#running = this.#loop();
    });
  }

  /** Resolves when every item added so far was written (or failed). */
  async flush(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  async #loop(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, this.#maxBatch);
        try {
          const result = await this.#write(batch.map((p) => p.item));
          for (const p of batch) p.resolve(result);
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.#running = null;
    }
  }
}
