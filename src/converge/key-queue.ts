/** Why a key is offered to the queue. */
export type OfferCause = "sweep" | "wake";

/** How one converge call of a key ended, as the queue needs to know it. */
export type KeyFinish =
  | { kind: "ok" }
  | { kind: "requeue"; afterMs: number }
  | { kind: "error"; delayMs: number }
  | { kind: "terminal"; message: string };

/** A key taken from the queue to run now. */
export interface TakenKey {
  key: string;
  version: string | null;
  /** Failures in a row before this run. */
  failures: number;
  /** What the offer that queued this run passed (a sweep's observation origin); absent if none. */
  origin?: unknown;
}

interface KeyState {
  version: string | null;
  /** The version the running (or last) run took: what a terminal failure is recorded under. */
  runVersion: string | null;
  running: boolean;
  queued: boolean;
  /** Offered again while running; runs once more after this run (at most one pending). */
  pending: OfferCause | null;
  failures: number;
  /** Set when the key failed terminally: not run again until it changes. */
  terminal: { version: string | null; message: string } | null;
  /** Backing off or waiting for `requeueAfter`: not run before this time. */
  dueAt: number | null;
  /** The origin of the offer that queued (or made pending) the next run; cleared when taken. */
  origin: unknown;
}

/** A key waiting out its backoff: its failures in a row and when it is tried again (ms since epoch). */
export interface BackoffKey {
  key: string;
  failures: number;
  dueAt: number;
}

/**
 * The per-key schedule of one converger, with time passed in (no timers, no I/O): at most one run
 * of a key at a time and at most one pending; a failing key waits out its backoff without holding
 * up the others; a terminal key is skipped until it changes (a wake-up of that key, or a sweep
 * that finds it with a different version); `requeueAfter` brings a key back after a delay.
 *
 * @example
 * ```ts
 * const q = new KeyQueue();
 * q.offer("42", null, "sweep", Date.now());
 * const next = q.take(); // { key: "42", version: null, failures: 0 }
 * q.finish("42", { kind: "ok" }, Date.now());
 * ```
 */
export class KeyQueue {
  readonly #states = new Map<string, KeyState>();
  readonly #ready = new Set<string>();
  /** Keys with a `dueAt` (backing off or requeued): the only ones `due` and `nextDueAt` look at. */
  readonly #delayed = new Set<string>();

  #state(key: string): KeyState {
    let s = this.#states.get(key);
    if (s === undefined) {
      s = {
        version: null,
        runVersion: null,
        running: false,
        queued: false,
        pending: null,
        failures: 0,
        terminal: null,
        dueAt: null,
        origin: undefined,
      };
      this.#states.set(key, s);
    }
    return s;
  }

  /**
   * Offers a key found by a sweep or woken by a change. Returns what happened: `queued`,
   * `pending` (running now; runs again after), `already` (queued), `terminal` or `waiting`
   * (skipped), or `changed` (a terminal key that changed and was queued again). `origin` (the
   * offering sweep's, for instance) is handed to the run this offer queues or makes pending.
   */
  offer(
    key: string,
    version: string | null,
    cause: OfferCause,
    now: number,
    origin?: unknown,
  ): "queued" | "pending" | "already" | "terminal" | "waiting" | "changed" {
    const s = this.#state(key);
    let outcome: "queued" | "changed" = "queued";
    if (s.terminal !== null) {
      const changed = cause === "wake" || (version !== null && version !== s.terminal.version);
      if (!changed) return "terminal";
      s.terminal = null;
      s.failures = 0;
      outcome = "changed";
    }
    if (version !== null) s.version = version;
    if (s.running) {
      if (s.pending !== "wake") s.pending = cause;
      s.origin = origin;
      return "pending";
    }
    if (s.queued) return "already";
    if (s.dueAt !== null && s.dueAt > now && cause === "sweep") return "waiting";
    s.dueAt = null;
    s.queued = true;
    s.origin = origin;
    this.#ready.add(key);
    return outcome;
  }

  /** Marks a key terminal (loaded from the store at start). */
  markTerminal(key: string, version: string | null, message: string): void {
    const s = this.#state(key);
    s.terminal = { version, message };
  }

  /**
   * Unparks a terminal key (its record expired or was cleared): it runs again when next offered.
   * Returns false when it was not parked.
   */
  unpark(key: string): boolean {
    const s = this.#states.get(key);
    if (s === undefined || s.terminal === null) return false;
    s.terminal = null;
    s.failures = 0;
    if (!s.running && !s.queued && s.dueAt === null && s.pending === null) this.#states.delete(key);
    return true;
  }

  /** The keys parked now. */
  parkedKeys(): string[] {
    const keys: string[] = [];
    for (const [key, s] of this.#states) if (s.terminal !== null) keys.push(key);
    return keys;
  }

  /** Whether a key is terminal now. */
  isTerminal(key: string): boolean {
    return this.#states.get(key)?.terminal != null;
  }

  /** Moves keys whose delay has passed into the ready queue; returns how many. */
  due(now: number): number {
    let moved = 0;
    for (const key of this.#delayed) {
      const s = this.#states.get(key);
      if (s === undefined || s.dueAt === null) {
        this.#delayed.delete(key);
        continue;
      }
      if (s.dueAt <= now && !s.running && !s.queued && s.terminal === null) {
        this.#delayed.delete(key);
        s.dueAt = null;
        s.queued = true;
        this.#ready.add(key);
        moved++;
      }
    }
    return moved;
  }

  /** The earliest time a waiting key becomes due, or null. */
  nextDueAt(): number | null {
    let next: number | null = null;
    for (const key of this.#delayed) {
      const s = this.#states.get(key);
      if (s === undefined || s.dueAt === null) continue;
      if (!s.running && !s.queued && (next === null || s.dueAt < next)) next = s.dueAt;
    }
    return next;
  }

  /** Takes the next ready key (oldest first) and marks it running, or null. */
  take(): TakenKey | null {
    for (const key of this.#ready) {
      this.#ready.delete(key);
      const s = this.#state(key);
      s.queued = false;
      s.running = true;
      s.runVersion = s.version;
      const origin = s.origin;
      s.origin = undefined;
      return origin === undefined
        ? { key, version: s.version, failures: s.failures }
        : { key, version: s.version, failures: s.failures, origin };
    }
    return null;
  }

  /** Records how a run ended; returns the key's failures in a row after it. */
  finish(key: string, result: KeyFinish, now: number): number {
    const s = this.#state(key);
    s.running = false;
    const pending = s.pending;
    s.pending = null;
    switch (result.kind) {
      case "ok":
        s.failures = 0;
        s.dueAt = null;
        break;
      case "requeue":
        s.failures = 0;
        s.dueAt = now + result.afterMs;
        this.#delayed.add(key);
        break;
      case "error":
        s.failures += 1;
        s.dueAt = now + result.delayMs;
        this.#delayed.add(key);
        break;
      case "terminal":
        s.failures = 0;
        s.dueAt = null;
        // Parked under the version the run saw (the store records that one too), not a newer one
        // a sweep found meanwhile.
        s.terminal = { version: s.runVersion, message: result.message };
        break;
    }
    const failures = s.failures;
    // A key a sweep found changed while it ran is run again, even after a terminal failure.
    const changedMeanwhile = pending === "sweep" && s.version !== s.runVersion;
    const rerun =
      pending === "wake" ||
      (pending === "sweep" && (result.kind === "ok" || result.kind === "requeue")) ||
      (result.kind === "terminal" && changedMeanwhile);
    // The pending offer's origin goes with the run it makes, or goes.
    if (!rerun) s.origin = undefined;
    if (rerun) {
      s.terminal = null;
      s.dueAt = null;
      s.queued = true;
      this.#ready.add(key);
    } else if (s.dueAt === null && s.terminal === null && s.failures === 0) {
      this.#states.delete(key);
    }
    return failures;
  }

  /**
   * Keys waiting out a backoff after failing (oldest due first, at most `limit`): for the
   * dashboard, which can run one now (an offer with cause `wake`).
   */
  backingOff(limit: number): BackoffKey[] {
    const out: BackoffKey[] = [];
    for (const key of this.#delayed) {
      const s = this.#states.get(key);
      if (s === undefined || s.dueAt === null || s.failures === 0 || s.running || s.queued) continue;
      out.push({ key, failures: s.failures, dueAt: s.dueAt });
    }
    return out.sort((a, b) => a.dueAt - b.dueAt).slice(0, limit);
  }

  /** Counts for metrics and tests. */
  size(): { tracked: number; ready: number; running: number; waiting: number; terminal: number } {
    let running = 0;
    let waiting = 0;
    let terminal = 0;
    for (const s of this.#states.values()) {
      if (s.running) running++;
      if (s.dueAt !== null && !s.running && !s.queued) waiting++;
      if (s.terminal !== null) terminal++;
    }
    return { tracked: this.#states.size, ready: this.#ready.size, running, waiting, terminal };
  }
}
