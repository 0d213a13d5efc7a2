import type { Counter, Histogram, Registry } from "prom-client";
import type {
  AttemptEnd,
  AttemptOutcome,
  ClaimedJob,
  InsertResult,
  NewJob,
  RescuedJob,
} from "../jobs/index.ts";
import { promClient } from "./prom.ts";

/** Seconds: from 5 ms to 10 min, for attempt durations and waits before start. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600];

/** The label an attempt's end counts under in `tend_job_attempts_finished_total`. */
export function outcomeLabel(outcome: AttemptOutcome, detail: AttemptEnd): string {
  switch (outcome) {
    case "failed":
      return detail.discarded === true ? "discarded" : "failed";
    case "lostLeases":
      return "lost";
    default:
      return outcome;
  }
}

/**
 * This process's job metrics (labels: queue and kind, both bounded by the program's
 * definitions; never a job id or unique key):
 * `tend_jobs_enqueued_total`, `tend_job_attempts_started_total`,
 * `tend_job_attempts_finished_total{outcome}` (completed, failed, discarded, cancelled, released,
 * lost), `tend_job_attempt_duration_seconds`, `tend_job_schedule_to_start_seconds`,
 * `tend_jobs_in_flight`, `tend_job_leases_lost_total`, `tend_jobs_rescued_total{outcome}`.
 *
 * @example
 * ```ts
 * const metrics = new JobMetrics(registry, () => jobs.inFlight());
 * metrics.started(job);
 * ```
 */
export class JobMetrics {
  readonly #enqueued: Counter<"queue" | "kind">;
  readonly #started: Counter<"queue" | "kind">;
  readonly #finished: Counter<"queue" | "kind" | "outcome">;
  readonly #duration: Histogram<"queue" | "kind">;
  readonly #wait: Histogram<"queue" | "kind">;
  readonly #lost: Counter<"queue" | "kind">;
  readonly #rescued: Counter<"queue" | "kind" | "outcome">;

  constructor(registry: Registry, inFlight: () => number) {
    const { Counter, Gauge, Histogram } = promClient();
    const registers = [registry];
    const labelNames = ["queue", "kind"] as const;
    this.#enqueued = new Counter({
      name: "tend_jobs_enqueued_total",
      help: "Jobs inserted by this process (a unique key already held does not count).",
      labelNames,
      registers,
    });
    this.#started = new Counter({
      name: "tend_job_attempts_started_total",
      help: "Job attempts started by this process.",
      labelNames,
      registers,
    });
    this.#finished = new Counter({
      name: "tend_job_attempts_finished_total",
      help: "Job attempts finished in this process, by outcome: completed, failed (will retry), discarded (no attempt left), cancelled, released (returned at shutdown), lost (lease lost).",
      labelNames: ["queue", "kind", "outcome"] as const,
      registers,
    });
    this.#duration = new Histogram({
      name: "tend_job_attempt_duration_seconds",
      help: "Duration of job attempts in this process, from start to outcome.",
      labelNames,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#wait = new Histogram({
      name: "tend_job_schedule_to_start_seconds",
      help: "Time from when a job was due to when an attempt started in this process.",
      labelNames,
      buckets: DURATION_BUCKETS,
      registers,
    });
    new Gauge({
      name: "tend_jobs_in_flight",
      help: "Jobs held by this process: running, claimed ahead, or with their outcome being written.",
      registers,
      collect() {
        this.set(inFlight());
      },
    });
    this.#lost = new Counter({
      name: "tend_job_leases_lost_total",
      help: "Attempts in this process whose lease was lost (rescued or cancelled elsewhere); their results were not recorded.",
      labelNames,
      registers,
    });
    this.#rescued = new Counter({
      name: "tend_jobs_rescued_total",
      help: "Jobs whose lease lapsed (worker died or hung), rescued by this process's maintenance, by outcome: retryable or discarded.",
      labelNames: ["queue", "kind", "outcome"] as const,
      registers,
    });
  }

  enqueued(jobs: readonly NewJob[], results: readonly InsertResult[]): void {
    for (let i = 0; i < jobs.length; i++) {
      if (results[i]?.inserted !== true) continue;
      const job = jobs[i]!;
      this.#enqueued.inc({ queue: job.queue, kind: job.kind });
    }
  }

  started(job: ClaimedJob, now: number): void {
    const labels = { queue: job.queue, kind: job.kind };
    this.#started.inc(labels);
    this.#wait.observe(labels, Math.max(0, now - job.runAt.getTime()) / 1000);
  }

  finished(job: ClaimedJob, outcome: AttemptOutcome, detail: AttemptEnd, seconds: number): void {
    const label = outcomeLabel(outcome, detail);
    this.#finished.inc({ queue: job.queue, kind: job.kind, outcome: label });
    this.#duration.observe({ queue: job.queue, kind: job.kind }, seconds);
    if (label === "lost") this.#lost.inc({ queue: job.queue, kind: job.kind });
  }

  rescued(jobs: readonly RescuedJob[]): void {
    for (const job of jobs) this.#rescued.inc({ queue: job.queue, kind: job.kind, outcome: job.state });
  }
}
