import type { Registry } from "prom-client";
import type {
  AttemptEnd,
  AttemptOutcome,
  ClaimedJob,
  InsertResult,
  NewJob,
  RescuedJob,
} from "../jobs/index.ts";
import { LocalHistogram, registerCollected, type Sample } from "./collected.ts";
import { labelBudgets, type LabelBudgets, OTHER_LABEL, warnLabelsFolded } from "./label-budget.ts";

/** Seconds: from 5 ms to 10 min, for attempt durations and waits before start. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600];

const OUTCOMES = ["completed", "failed", "discarded", "cancelled", "released", "lost"] as const;
type OutcomeLabel = (typeof OUTCOMES)[number];

/** The label an attempt's end counts under in `tend_job_attempts_finished_total`. */
export function outcomeLabel(outcome: AttemptOutcome, detail: AttemptEnd): OutcomeLabel {
  switch (outcome) {
    case "failed":
      return detail.discarded === true ? "discarded" : "failed";
    case "lostLeases":
      return "lost";
    default:
      return outcome;
  }
}

/** What this process counted for one (queue, kind). */
export class KindStats {
  enqueued = 0;
  started = 0;
  readonly finished: Record<OutcomeLabel, number> = {
    completed: 0,
    failed: 0,
    discarded: 0,
    cancelled: 0,
    released: 0,
    lost: 0,
  };
  readonly rescued = { retryable: 0, discarded: 0 };
  readonly duration = new LocalHistogram(DURATION_BUCKETS);
  readonly wait = new LocalHistogram(DURATION_BUCKETS);
}

/**
 * At most this many (queue, kind) label pairs of kinds this process does not run; later pairs are
 * counted under queue and kind "(other)".
 */
export const MAX_FOREIGN_SERIES = 500;

/**
 * This process's job metrics (labels: queue and kind; never a job id or unique key), bounded: a
 * kind this process runs and its queue keep their labels; any other kind or queue (enqueued with
 * a kind or queue of the caller's choosing, rescued from another program) does too while the
 * registry's label budgets last (100 kinds and 50 queues, see label-budget.ts, and
 * {@link MAX_FOREIGN_SERIES} pairs), and is counted under "(other)" past them (one warning):
 * `tend_jobs_enqueued_total`, `tend_job_attempts_started_total`,
 * `tend_job_attempts_finished_total{outcome}` (completed, failed, discarded, cancelled, released,
 * lost), `tend_job_attempt_duration_seconds`, `tend_job_schedule_to_start_seconds`,
 * `tend_jobs_in_flight`, `tend_job_leases_lost_total`, `tend_jobs_rescued_total{outcome}`.
 * Updates are plain additions; the samples are built when scraped.
 *
 * @example
 * ```ts
 * const metrics = new JobMetrics(registry, () => jobs.inFlight());
 * metrics.started(job, Date.now());
 * ```
 */
export class JobMetrics {
  /** Counters by queue, then kind: by the raw names of admitted ones, and under "(other)". */
  readonly #byQueue = new Map<string, Map<string, KindStats>>();
  readonly #budgets: LabelBudgets;
  /** Pairs made for kinds this process does not run (see MAX_FOREIGN_SERIES). */
  #foreign = 0;
  // The last (queue, kind) counted, in fields: no object per change of pair.
  #lastQueue: string | undefined;
  #lastKind: string | undefined;
  #lastStats: KindStats | undefined;

  /** Whether this process defines a kind (its label is kept exact from its first enqueue). */
  readonly #defines: (kind: string) => boolean;

  /**
   * `defines`: whether this process defines a kind (default: none known until it runs); a kind it
   * defines keeps its own label from its first enqueue, whatever the budget.
   */
  constructor(registry: Registry, inFlight: () => number, defines: (kind: string) => boolean = () => false) {
    this.#defines = defines;
    this.#budgets = labelBudgets(registry);
    const each = (pick: (s: KindStats, labels: Record<string, string>) => Sample[]) => (): Sample[] => {
      const out: Sample[] = [];
      for (const [queue, kinds] of this.#byQueue)
        for (const [kind, stats] of kinds) out.push(...pick(stats, { queue, kind }));
      return out;
    };
    registerCollected(
      registry,
      "tend_jobs_enqueued_total",
      "Jobs inserted by this process (a unique key already held does not count).",
      "counter",
      each((s, labels) => (s.enqueued === 0 ? [] : [{ labels, value: s.enqueued }])),
    );
    registerCollected(
      registry,
      "tend_job_attempts_started_total",
      "Job attempts started by this process.",
      "counter",
      each((s, labels) => (s.started === 0 ? [] : [{ labels, value: s.started }])),
    );
    registerCollected(
      registry,
      "tend_job_attempts_finished_total",
      "Job attempts finished in this process, by outcome: completed, failed (will retry), discarded (no attempt left), cancelled, released (returned at shutdown), lost (lease lost).",
      "counter",
      each((s, labels) =>
        s.started === 0
          ? []
          : OUTCOMES.map((outcome) => ({ labels: { ...labels, outcome }, value: s.finished[outcome] })),
      ),
    );
    registerCollected(
      registry,
      "tend_job_attempt_duration_seconds",
      "Duration of job attempts in this process, from start to outcome.",
      "histogram",
      each((s, labels) =>
        s.started === 0 ? [] : s.duration.samples("tend_job_attempt_duration_seconds", labels),
      ),
    );
    registerCollected(
      registry,
      "tend_job_schedule_to_start_seconds",
      "Time from when a job was due to when an attempt started in this process.",
      "histogram",
      each((s, labels) =>
        s.started === 0 ? [] : s.wait.samples("tend_job_schedule_to_start_seconds", labels),
      ),
    );
    registerCollected(
      registry,
      "tend_jobs_in_flight",
      "Jobs held by this process: running, claimed ahead, or with their outcome being written.",
      "gauge",
      () => [{ labels: {}, value: inFlight() }],
    );
    registerCollected(
      registry,
      "tend_job_leases_lost_total",
      "Attempts in this process whose lease was lost (rescued or cancelled elsewhere); their results were not recorded.",
      "counter",
      each((s, labels) => (s.started === 0 ? [] : [{ labels, value: s.finished.lost }])),
    );
    registerCollected(
      registry,
      "tend_jobs_rescued_total",
      "Jobs whose lease lapsed (worker died or hung), rescued by this process's maintenance, by outcome: retryable or discarded.",
      "counter",
      each((s, labels) =>
        s.rescued.retryable + s.rescued.discarded === 0
          ? []
          : [
              { labels: { ...labels, outcome: "retryable" }, value: s.rescued.retryable },
              { labels: { ...labels, outcome: "discarded" }, value: s.rescued.discarded },
            ],
      ),
    );
  }

  /**
   * The counters of (queue, kind); `runs`: a job this process claimed, so its kind is defined here
   * (labelled whatever the budgets).
   */
  #of(queue: string, kind: string, runs: boolean): KindStats {
    // Most attempts in a row are of the same queue and kind: skip the two map lookups.
    if (this.#lastStats !== undefined && this.#lastQueue === queue && this.#lastKind === kind)
      return this.#lastStats;
    // Admitted names are keys as they are; a folded name misses and is labelled again (no entry
    // is ever made for it, so the maps stay within the budgets).
    let stats = this.#byQueue.get(queue)?.get(kind);
    if (stats === undefined) {
      stats = this.#admit(queue, kind, runs);
      // Folded counters are not remembered as the pair's: a kind folded at enqueue gets its own
      // label once this process runs it.
      if (this.#byQueue.get(queue)?.get(kind) !== stats) return stats;
    }
    this.#lastQueue = queue;
    this.#lastKind = kind;
    this.#lastStats = stats;
    return stats;
  }

  /** The counters of (queue, kind) under their labels, made on first use. */
  #admit(queue: string, kind: string, runs: boolean): KindStats {
    let q = this.#budgets.queues.label(queue, runs);
    let k = this.#budgets.kinds.label(kind, runs || this.#defines(kind));
    let kinds = this.#byQueue.get(q);
    let stats = kinds?.get(k);
    if (stats !== undefined) return stats;
    if (!runs && this.#foreign >= MAX_FOREIGN_SERIES) {
      if (this.#foreign++ === MAX_FOREIGN_SERIES)
        warnLabelsFolded(
          `tend metrics: more than ${MAX_FOREIGN_SERIES} (queue, kind) pairs of kinds this process does not run ` +
            `seen (queue ${JSON.stringify(queue)}, kind ${JSON.stringify(kind)} and later new pairs are counted ` +
            `under queue and kind "${OTHER_LABEL}"), so that the series stay bounded; see docs/observability.md`,
        );
      q = OTHER_LABEL;
      k = OTHER_LABEL;
      kinds = this.#byQueue.get(q);
      stats = kinds?.get(k);
      if (stats !== undefined) return stats;
    } else if (!runs) this.#foreign++;
    if (kinds === undefined) {
      kinds = new Map();
      this.#byQueue.set(q, kinds);
    }
    stats = new KindStats();
    kinds.set(k, stats);
    return stats;
  }

  enqueued(jobs: readonly NewJob[], results: readonly InsertResult[]): void {
    for (let i = 0; i < jobs.length; i++) {
      if (results[i]?.inserted !== true) continue;
      const job = jobs[i]!;
      this.#of(job.queue, job.kind, false).enqueued++;
    }
  }

  /** Counts an attempt's start; returns its (queue, kind) counters, for {@link finished}. */
  started(job: ClaimedJob, now: number): KindStats {
    const stats = this.#of(job.queue, job.kind, true);
    stats.started++;
    stats.wait.observe(Math.max(0, now - job.runAt.getTime()) / 1000);
    return stats;
  }

  /** Counts an attempt's end on the counters {@link started} returned. */
  finished(stats: KindStats, outcome: AttemptOutcome, detail: AttemptEnd, seconds: number): void {
    stats.finished[outcomeLabel(outcome, detail)]++;
    stats.duration.observe(seconds);
  }

  rescued(jobs: readonly RescuedJob[]): void {
    for (const job of jobs) this.#of(job.queue, job.kind, false).rescued[job.state]++;
  }
}
