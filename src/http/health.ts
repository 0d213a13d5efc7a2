/**
 * Watches the event loop's responsiveness for `/healthz`: a timer that should fire every
 * `intervalMs` notes how late it fired; the probe answers unhealthy when the loop was blocked
 * longer than the bound recently (or is blocked right now, as seen from a late probe).
 *
 * @example
 * ```ts
 * const loop = new EventLoopWatch({ maxDelayMs: 5_000 });
 * loop.start();
 * loop.delayMs(); // the worst recent delay
 * ```
 */
export class EventLoopWatch {
  readonly #intervalMs: number;
  readonly #windowMs: number;
  readonly maxDelayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #lastTickAt = performance.now();
  /** Worst delay seen and when, kept for one window. */
  #worst = { delayMs: 0, at: 0 };

  constructor(options: { maxDelayMs: number; intervalMs?: number; windowMs?: number }) {
    this.maxDelayMs = options.maxDelayMs;
    this.#intervalMs = options.intervalMs ?? 250;
    this.#windowMs = options.windowMs ?? 10_000;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#lastTickAt = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#note(now - this.#lastTickAt - this.#intervalMs, now);
      this.#lastTickAt = now;
    }, this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The worst event-loop delay in the last window, in ms (the current one included). */
  delayMs(): number {
    const now = performance.now();
    const current = Math.max(0, now - this.#lastTickAt - this.#intervalMs);
    const recent = now - this.#worst.at <= this.#windowMs ? this.#worst.delayMs : 0;
    return Math.round(Math.max(current, recent));
  }

  /** True while the worst recent delay is under the bound. */
  healthy(): boolean {
    return this.delayMs() < this.maxDelayMs;
  }

  #note(delayMs: number, now: number): void {
    if (delayMs >= this.#worst.delayMs || now - this.#worst.at > this.#windowMs) {
      this.#worst = { delayMs: Math.max(0, delayMs), at: now };
    }
  }
}
