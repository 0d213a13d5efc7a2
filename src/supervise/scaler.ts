import type { Logger } from "../log/index.ts";
import type { QueueStats, Store } from "../store/index.ts";
import { divideWorkers, type FleetMember, fleetTotals } from "./fleet-share.ts";
import {
  decideWorkerCount,
  initialScalingState,
  type ScalingSettings,
  type ScalingState,
  sumQueueStats,
} from "./policy.ts";

/** A change of the worker count decided by the {@link Scaler}. */
export interface ScaleChange {
  at: string;
  from: number;
  to: number;
  reason: string;
}

/**
 * The I/O around the scaling policy: reads the queue statistics from the store (one read at a
 * time), feeds them to {@link decideWorkerCount} with the policy's memory, and logs once when the
 * statistics become unreadable and once when they are back.
 *
 * @example
 * ```ts
 * const scaler = new Scaler({ min: 1, max: 8, queues: [], settings: DEFAULT_SCALING, log });
 * const change = await scaler.evaluate(store, { current, starting });
 * if (change !== null) setDesired(change.to);
 * ```
 */
export class Scaler {
  readonly #min: number;
  readonly #max: number;
  readonly #queues: readonly string[];
  readonly #settings: ScalingSettings;
  readonly #log: Logger;
  #state: ScalingState = initialScalingState;
  #busy = false;
  #failing = false;
  /** The summed statistics of the last read (null before any). */
  lastStats: QueueStats | null = null;
  /** The last change decided (null before any). */
  lastChange: ScaleChange | null = null;

  constructor(options: {
    min: number;
    max: number;
    queues: readonly string[];
    settings: ScalingSettings;
    log: Logger;
  }) {
    this.#min = options.min;
    this.#max = options.max;
    this.#queues = options.queues;
    this.#settings = options.settings;
    this.#log = options.log;
  }

  /**
   * Reads the statistics and decides; resolves with the change, or null (no change, busy, or
   * unreadable). `count.current` is this master's target count, `count.starting` how many of
   * those workers are not ready yet (see {@link decideWorkerCount}). With `fleet` (this master's
   * id and every live master, itself included), the policy decides the whole fleet's count from
   * the shared backlog, and this master takes its share of it (see {@link divideWorkers}); the
   * workers still starting are then this master's only (the fleet table does not hold them).
   */
  async evaluate(
    store: Store,
    count: { current: number; starting: number },
    fleet?: { me: string; members: readonly FleetMember[] },
  ): Promise<ScaleChange | null> {
    const { current, starting } = count;
    if (this.#busy) return null;
    this.#busy = true;
    try {
      const stats = sumQueueStats(await store.jobs.stats(), this.#queues);
      if (this.#failing) this.#log.info("queue statistics readable again");
      this.#failing = false;
      this.lastStats = stats;
      const now = Date.now();
      const shared = fleet !== undefined && fleet.members.length > 1;
      const totals = shared ? fleetTotals(fleet.members) : { min: this.#min, max: this.#max, current };
      const d = decideWorkerCount(
        { stats, current: totals.current, starting, min: totals.min, max: totals.max, now },
        this.#state,
        this.#settings,
      );
      this.#state = d.state;
      const desired = shared
        ? (divideWorkers(d.desired, fleet.members).get(fleet.me) ?? this.#min)
        : d.desired;
      if (desired === current) return null;
      const reason = shared
        ? `${d.reason}; share of ${d.desired} across ${fleet.members.length} masters`
        : d.reason;
      this.lastChange = { at: new Date(now).toISOString(), from: current, to: desired, reason };
      this.#log.info(
        {
          from: current,
          to: desired,
          reason,
          available: stats.available,
          running: stats.running,
        },
        "scaling",
      );
      return this.lastChange;
    } catch (err) {
      if (!this.#failing)
        this.#log.warn({ err }, "cannot read queue statistics from the store; keeping the worker count");
      this.#failing = true;
      return null;
    } finally {
      this.#busy = false;
    }
  }
}
