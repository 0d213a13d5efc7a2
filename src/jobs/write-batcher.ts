/** What to do when a whole batch's write fails. */
export interface SplitPolicy {
  /**
   * Whether the failure may be one item's fault, so that writing the items one by one can save the
   * others (a statement the database refused); false when no write could succeed now (the store is
   * unreachable or closed), so that every item gets the batch's error at once.
   */
  retrySingly(err: unknown): boolean;
  /** Told once per batch that is split (for a log line). */
  onSplit?(err: unknown, items: number): void;
}

/** Items written at once while a failed batch is written one by one. */
const SINGLES_AT_ONCE = 8;

/**
 * Groups writes that arrive while a previous write is in flight into one call, so that a busy
 * worker records completions in batches (one round trip for many jobs) while an idle one records
 * each at once. Each `add` resolves when its item's batch was written (or rejects with its error).
 * When a batch's write fails and the policy allows it, its items are written again one by one
 * (a few at a time), so that one item the database refuses fails alone.
 */
export class WriteBatcher<T, R> {
  readonly #write: (items: T[]) => Promise<R>;
  readonly #maxBatch: number;
  readonly #split: SplitPolicy | undefined;
  #pending: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  #running: Promise<void> | null = null;

  constructor(write: (items: T[]) => Promise<R>, options: { maxBatch?: number; split?: SplitPolicy } = {}) {
    this.#write = write;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#split = options.split;
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
          if (batch.length === 1 || this.#split === undefined || !this.#split.retrySingly(err)) {
            for (const p of batch) p.reject(err);
            continue;
          }
          this.#split.onSplit?.(err, batch.length);
          await this.#singly(batch);
        }
      }
    } finally {
      this.#running = null;
    }
  }

  /** Writes each item of a failed batch alone; stops early (failing the rest) once the store is out of reach. */
  async #singly(
    batch: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }>,
  ): Promise<void> {
    // Set from inside the callbacks below; typed by hand, since the compiler narrows it to null here.
    let unreachable = null as { err: unknown } | null;
    for (let i = 0; i < batch.length; i += SINGLES_AT_ONCE) {
      const slice = batch.slice(i, i + SINGLES_AT_ONCE);
      if (unreachable !== null) {
        for (const p of slice) p.reject(unreachable.err);
        continue;
      }
      await Promise.all(
        slice.map(async (p) => {
          try {
            p.resolve(await this.#write([p.item]));
          } catch (err) {
            if (unreachable === null && !this.#split!.retrySingly(err)) unreachable = { err };
            p.reject(err);
          }
        }),
      );
    }
  }
}
