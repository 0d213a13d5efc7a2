/**
 * A value read at most once per `ttlMs` (a fleet of processes scraping must not hammer the
 * database), each read bounded by `timeoutMs`. A failed or late read is remembered as a failure
 * for the same time, and a read that outlives its timeout blocks no later one beyond one
 * straggler at a time.
 *
 * @example
 * ```ts
 * const stats = new Cached(() => store.jobs.stats(), { ttlMs: 5_000, timeoutMs: 1_000 });
 * const result = await stats.get(); // { ok: true, value } or { ok: false, error }
 * ```
 */
export class Cached<T> {
  readonly #read: () => Promise<T>;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  #last: { at: number; result: CachedResult<T> } | null = null;
  #pending: Promise<CachedResult<T>> | null = null;
  #straggling = false;

  constructor(read: () => Promise<T>, options: { ttlMs: number; timeoutMs: number }) {
    this.#read = read;
    this.#ttlMs = options.ttlMs;
    this.#timeoutMs = options.timeoutMs;
  }

  get(): Promise<CachedResult<T>> {
    const last = this.#last;
    if (last !== null && performance.now() - last.at < this.#ttlMs) return Promise.resolve(last.result);
    this.#pending ??= this.#fetch().then((result) => {
      this.#last = { at: performance.now(), result };
      this.#pending = null;
      return result;
    });
    return this.#pending;
  }

  async #fetch(): Promise<CachedResult<T>> {
    if (this.#straggling) return { ok: false, error: new Error("the previous read has not answered yet") };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), this.#timeoutMs);
    });
    const read = this.#read().then(
      (value): CachedResult<T> => ({ ok: true, value }),
      (error: unknown): CachedResult<T> => ({ ok: false, error }),
    );
    const outcome = await Promise.race([read, late]);
    clearTimeout(timer);
    if (outcome !== "late") return outcome;
    this.#straggling = true;
    void read.finally(() => {
      this.#straggling = false;
    });
    return { ok: false, error: new Error(`no answer within ${this.#timeoutMs} ms`) };
  }
}

/** A read's result: the value, or why there is none. */
export type CachedResult<T> = { ok: true; value: T } | { ok: false; error: unknown };
