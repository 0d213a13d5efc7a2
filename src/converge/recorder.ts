import { type ConvergeStore, type Fence, storableValue } from "../store/index.ts";

interface Pending {
  key: string;
  changes: unknown;
  resolve(recorded: boolean): void;
  reject(err: unknown): void;
}

/**
 * Groups the inconsistencies of one converger's concurrent converge calls into one fenced insert
 * (one commit) per turn of the event loop, instead of one commit each. A call's promise settles
 * when its batch is committed (true) or fenced out (false), and rejects when the batch's write
 * failed. A write retried after such a failure is made `alone`, in a batch of its own, so that
 * one record the database refuses never takes down the others it was batched with (their
 * retries are stored; see `recordChange`, which reads back before retrying so that nothing is
 * stored twice).
 *
 * @example
 * ```ts
 * const recorder = new InconsistencyRecorder(store, "archive-account-resources");
 * const recorded = await recorder.record("42", { resources: [7] }, fence);
 * ```
 */
export class InconsistencyRecorder {
  readonly #store: ConvergeStore;
  readonly #converger: string;
  readonly #maxBatch: number;
  readonly #queues = new Map<string, { fence: Fence | null; items: Pending[] }>();
  #scheduled = false;

  constructor(store: ConvergeStore, converger: string, maxBatch = 256) {
    this.#store = store;
    this.#converger = converger;
    this.#maxBatch = maxBatch;
  }

  record(key: string, changes: unknown, fence: Fence | null, alone = false): Promise<boolean> {
    if (alone) return this.#write([{ key, changes }], fence);
    return new Promise((resolve, reject) => {
      const id = fence === null ? "" : `${fence.holder}\u0000${fence.epoch}`;
      let queue = this.#queues.get(id);
      if (queue === undefined) {
        queue = { fence, items: [] };
        this.#queues.set(id, queue);
      }
      queue.items.push({ key, changes, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const queues = [...this.#queues.values()];
    this.#queues.clear();
    for (const { fence, items } of queues) {
      for (let i = 0; i < items.length; i += this.#maxBatch) {
        const batch = items.slice(i, i + this.#maxBatch);
        this.#write(batch, fence).then(
          (recorded) => {
            for (const p of batch) p.resolve(recorded);
          },
          (err: unknown) => {
            for (const p of batch) p.reject(err);
          },
        );
      }
    }
  }

  /** One fenced insert of `records`; rejects when it fails (also when a value cannot be encoded). */
  async #write(
    records: ReadonlyArray<{ key: string; changes: unknown }>,
    fence: Fence | null,
  ): Promise<boolean> {
    return this.#store.recordInconsistencies(
      this.#converger,
      // Strings a database cannot store (U+0000, lone surrogates) are kept as their escapes.
      records.map((p) => ({ key: p.key, changes: storableValue(p.changes) })),
      fence,
    );
  }
}
