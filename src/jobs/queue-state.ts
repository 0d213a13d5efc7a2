import type { ClaimedJob } from "../store/index.ts";

/** How long a queue's claimed rate-limited jobs keep its polls aligned to their windows. */
export const RATE_MEMORY_MS = 60_000;
/** How long after a window opens the aligned poll runs (clock steps between process and database). */
export const WINDOW_SLACK_MS = 5;

/**
 * Pure: just after the next epoch-aligned window of `periodMs` opens (at least {@link
 * WINDOW_SLACK_MS} from now).
 *
 * @example
 * ```ts
 * nextWindowAt(2_300, 1_000); // 3_005
 * ```
 */
export function nextWindowAt(now: number, periodMs: number): number {
  return Math.max(now + WINDOW_SLACK_MS, (Math.floor(now / periodMs) + 1) * periodMs + WINDOW_SLACK_MS);
}

/**
 * What one worker holds of one queue: handlers running, jobs claimed ahead and not started yet,
 * outcomes not yet written, and the wake-up flags of its claim loop.
 */
export class QueueState {
  readonly name: string;
  readonly concurrency: number;
  /** Claim-ahead depth: fixed when configured, else adapted after each claim (see `afterClaim`). */
  prefetch: number;
  /** The depth adapts (no `prefetch` configured). */
  readonly adaptive: boolean;
  /** The most the adaptive depth grows to: ten times the concurrency (a claim is at most 10,000). */
  readonly maxPrefetch: number;
  /** Claimed ahead, waiting for a free slot (their lease is held and renewed). */
  readonly buffer: ClaimedJob[] = [];
  /** Handlers running now; never more than `concurrency`. */
  running = 0;
  /** Buffered jobs are being started (guards against starting re-entrantly). */
  starting = false;
  /** Claimed jobs whose outcome is not written yet (buffered, running, or finished and unwritten). */
  held = 0;
  /** Something changed (a slot freed, a notification): re-evaluate. */
  dirty = true;
  /** The database may have new runnable jobs (a notification, the poll timer, a reconnect). */
  notified = true;
  /** The last claim returned fewer jobs than asked: claim again only when notified. */
  drained = false;
  /** When a drained queue is next polled (ms since epoch). */
  nextPollAt = 0;
  /**
   * The queue is paused, as last read from the store: claim nothing and start nothing buffered.
   * The claim itself also refuses a paused queue, so a stale `false` only costs an empty claim.
   */
  paused = false;
  resolve: (() => void) | null = null;
  /** The fallback poll's timer while one is set, and when it fires. */
  #pollTimer: ReturnType<typeof setTimeout> | null = null;
  #pollAt = Infinity;
  /** The shortest rate-limit window of the jobs claimed lately (ms), or null. */
  ratePeriodMs: number | null = null;
  /** When a rate-limited job was last claimed (ms since epoch). */
  rateSeenAt = 0;

  /** `prefetch` null: adaptive claim-ahead, starting at 0. */
  constructor(name: string, concurrency: number, prefetch: number | null) {
    this.name = name;
    this.concurrency = concurrency;
    this.adaptive = prefetch === null;
    this.prefetch = prefetch ?? 0;
    this.maxPrefetch = Math.min(10 * concurrency, 10_000 - concurrency);
  }

  /** Handlers that returned since the last claim was sent. */
  finished = 0;
  /** At the last claim's send: free slots with nothing buffered for them. */
  #idleAtClaim = 0;
  /** At the last claim's send: handlers had returned since the claim before (slots are cycling). */
  #cyclingAtClaim = false;

  /** Records, as a claim is sent, what `afterClaim` decides on. */
  beforeClaim(): void {
    this.#idleAtClaim = Math.max(0, this.concurrency - this.running - this.buffer.length);
    this.#cyclingAtClaim = this.finished > 0;
    this.finished = 0;
  }

  /**
   * Pure decision, after a claim of `asked` returned `got` jobs, before they are buffered: adapts
   * the claim-ahead depth when it is not configured. A full claim while handlers were returning
   * and at least half the slots sat idle with nothing buffered, when it was sent or by the time it
   * came back (short jobs waiting for the round trip), doubles it, up to `maxPrefetch`; a claim that came back short (the queue is
   * drained) halves it, so that an idle worker holds nothing ahead that other workers could run.
   * Slow jobs free one slot at a time, so their worker does not claim ahead.
   */
  afterClaim(asked: number, got: number): void {
    if (!this.adaptive) return;
    if (got < asked) {
      this.prefetch = Math.floor(this.prefetch / 2);
      return;
    }
    // Idle when the claim was sent, or by the time it came back (the buffer ran dry meanwhile).
    const idle = Math.max(this.#idleAtClaim, this.concurrency - this.running - this.buffer.length);
    if ((this.#cyclingAtClaim || this.finished > 0) && 2 * idle >= this.concurrency)
      this.prefetch = Math.min(this.maxPrefetch, Math.max(this.concurrency, this.prefetch * 2));
  }

  /**
   * Upper bound of held jobs: three claims' worth (a claim is at most `concurrency + prefetch`):
   * one buffered or running, and up to two whose outcomes are still being written, so that a
   * full claim is never held back by a completion batch in flight.
   */
  get maxHeld(): number {
    return 3 * (this.concurrency + this.prefetch);
  }

  /**
   * Pure decision: how many jobs to claim now (0: none). Claims refill the buffer once it is down
   * to a tenth of the prefetch depth, up to free slots plus the prefetch depth, never beyond
   * `maxHeld`, and not while the queue is drained unless a notification said there may be more.
   * Refilling late claims in bulk: a claim is one statement whose fixed cost (planning, commit,
   * round trip) is that of dozens of rows, and with a deep buffer few slots wait for it.
   */
  claimSize(): number {
    if (this.paused) return 0;
    if (this.drained && !this.notified) return 0;
    if (this.buffer.length > Math.floor(this.prefetch / 10)) return 0;
    const want = this.concurrency - this.running + (this.prefetch - this.buffer.length);
    return Math.max(0, Math.min(want, this.maxHeld - this.held));
  }

  /**
   * Pure decision: how many of a claim of `size` start at once (the claim marks them started):
   * the free slots not taken by buffered jobs. The rest are claimed ahead, marked when they start.
   */
  startNow(size: number): number {
    return Math.max(0, Math.min(size, this.concurrency - this.running - this.buffer.length));
  }

  /** Records the rate-limit windows of claimed jobs (see {@link pollAfterDrain}). */
  noteClaimed(jobs: readonly ClaimedJob[], now: number): void {
    for (const job of jobs) {
      const period = job.ratePeriodMs;
      if (period == null) continue;
      if (this.ratePeriodMs === null || now - this.rateSeenAt > RATE_MEMORY_MS || period < this.ratePeriodMs)
        this.ratePeriodMs = period;
      this.rateSeenAt = now;
    }
  }

  /**
   * Pure decision: when a drained queue is polled next. One poll interval from now; but while the
   * queue had rate-limited jobs claimed within the last minute, no later than just after the next
   * window of their limit opens (windows are aligned to the epoch, see {@link nextWindowAt}), so
   * that each window's starts are taken at its beginning rather than at a poll that drifts through
   * the windows and misses some.
   */
  pollAfterDrain(now: number, pollIntervalMs: number): number {
    const poll = now + pollIntervalMs;
    if (this.ratePeriodMs === null || now - this.rateSeenAt > RATE_MEMORY_MS) return poll;
    return Math.min(poll, nextWindowAt(now, this.ratePeriodMs));
  }

  /** Wakes the claim loop. `notified`: the wake-up says the database may have new jobs. */
  wake(notified: boolean): void {
    if (notified) this.notified = true;
    this.dirty = true;
    this.resolve?.();
  }

  /**
   * Waits for a wake-up, or `timeoutMs` (then counts as notified: the fallback poll). The poll's
   * timer outlives the wait: a claim loop woken many times a second while drained (every keyed
   * job's end wakes it) re-arms no timer while one is set to fire no later; {@link stopPolling}
   * clears it.
   */
  waitForWake(timeoutMs: number | null): Promise<void> {
    if (this.dirty) return Promise.resolve();
    if (timeoutMs !== null) this.#armPoll(Date.now() + timeoutMs);
    return new Promise<void>((resolve) => {
      this.resolve = (): void => {
        this.resolve = null;
        resolve();
      };
    });
  }

  /** A fallback poll's timer is set. */
  get pollScheduled(): boolean {
    return this.#pollTimer !== null;
  }

  /** Clears the fallback poll's timer (the claim loop has ended). */
  stopPolling(): void {
    if (this.#pollTimer !== null) clearTimeout(this.#pollTimer);
    this.#pollTimer = null;
    this.#pollAt = Infinity;
  }

  /** Sets the fallback poll to fire at `at` unless it is set to fire no later. */
  #armPoll(at: number): void {
    if (this.#pollTimer !== null && this.#pollAt <= at) return;
    this.stopPolling();
    this.#pollAt = at;
    this.#pollTimer = setTimeout(
      () => {
        this.#pollTimer = null;
        this.#pollAt = Infinity;
        this.wake(true);
      },
      Math.max(0, at - Date.now()),
    );
  }
}
