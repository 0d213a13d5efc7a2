import { checkInteger, checkSignal } from "../errors/index.ts";

interface Waiter {
  resolve(release: () => void): void;
}

/**
 * Bounds how many operations run at once (database calls from many tasks, files processed in
 * parallel). Waiters are served first come, first served; a waiter whose signal aborts leaves the
 * queue at once with an `AbortError` (its `cause` is the signal's reason).
 *
 * @example
 * ```ts
 * const limiter = new Limiter(4);
 * await limiter.run(() => pool.query(sql), signal); // at most 4 queries at once
 * ```
 */
export class Limiter {
  readonly #concurrency: number;
  #active = 0;
  readonly #queue = new Set<Waiter>();

  constructor(concurrency: number) {
    this.#concurrency = checkInteger("TEND_E_INVALID_CONCURRENCY", "concurrency", concurrency, 1);
  }

  /** The most operations allowed at once. */
  get concurrency(): number {
    return this.#concurrency;
  }

  /** Operations holding a slot now. */
  get active(): number {
    return this.#active;
  }

  /** Waiters in the queue. */
  get pending(): number {
    return this.#queue.size;
  }

  /**
   * Waits for a slot and returns the function that gives it back (calling it twice is harmless).
   * Rejects with an `AbortError` if `signal` aborts first.
   *
   * @example
   * ```ts
   * const release = await limiter.acquire(signal);
   * try { await work(); } finally { release(); }
   * ```
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal !== undefined) checkSignal("TEND_E_INVALID_LIFECYCLE_OPTION", "signal", signal);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.#active < this.#concurrency && this.#queue.size === 0) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#queue.delete(waiter);
        reject(abortError(signal));
      };
      const waiter: Waiter = {
        resolve: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
      };
      this.#queue.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Runs `fn` in a slot, giving the slot back when it settles.
   *
   * @example
   * ```ts
   * const rows = await limiter.run(() => store.claim(10), signal);
   * ```
   */
  async run<T>(fn: () => T | Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.values().next();
      if (next.done === true) {
        this.#active--;
        return;
      }
      // Hand the slot straight to the next waiter: `active` stays the same.
      this.#queue.delete(next.value);
      next.value.resolve(this.#releaser());
    };
  }
}

function abortError(signal: AbortSignal | undefined): DOMException {
  const error = new DOMException("The wait for a Limiter slot was aborted", "AbortError");
  Object.defineProperty(error, "cause", { value: signal?.reason, configurable: true, writable: true });
  return error;
}
