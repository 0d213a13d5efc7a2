import type { Metric, Registry } from "prom-client";

/** One sample of a metric: its labels, value and, for histogram parts, its series name. */
export interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * A metric whose samples are built at scrape time from plain counters kept by tend (no
 * prom-client call on the hot path: a job's attempt costs a few additions, not label hashing and
 * validation per update). Registered on a prom-client Registry like any metric.
 *
 * @example
 * ```ts
 * registerCollected(registry, "tend_jobs_enqueued_total", "Jobs inserted.", "counter", () => [{ labels: { queue: "q" }, value: 3 }]);
 * ```
 */
export function registerCollected(
  registry: Registry,
  name: string,
  help: string,
  type: "counter" | "gauge" | "histogram",
  samples: () => Sample[],
): void {
  const metric = {
    name,
    help,
    type,
    aggregator: "sum",
    get: async () => ({ name, help, type, aggregator: "sum", values: samples() }),
    reset: () => {},
  };
  // prom-client's Registry takes any object with this shape; its Metric type names its classes.
  registry.registerMetric(metric as unknown as Metric);
}

/**
 * A histogram kept as plain numbers: per-bucket counts, sum and count.
 *
 * @example
 * ```ts
 * const h = new LocalHistogram([0.1, 1]);
 * h.observe(0.5);
 * h.samples("x_seconds", { queue: "q" });
 * ```
 */
export class LocalHistogram {
  readonly #bounds: readonly number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.#counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.#bounds.length && value > this.#bounds[i]!) i++;
    this.#counts[i]!++;
    this.#sum += value;
    this.#count++;
  }

  /** The Prometheus series of this histogram: cumulative `_bucket`s with `le`, `_sum`, `_count`. */
  samples(name: string, labels: Record<string, string>): Sample[] {
    const out: Sample[] = [];
    let cumulative = 0;
    for (let i = 0; i <= this.#bounds.length; i++) {
      cumulative += this.#counts[i]!;
      const le = i < this.#bounds.length ? this.#bounds[i]! : "+Inf";
      out.push({ labels: { ...labels, le }, value: cumulative, metricName: `${name}_bucket` });
    }
    out.push({ labels, value: this.#sum, metricName: `${name}_sum` });
    out.push({ labels, value: this.#count, metricName: `${name}_count` });
    return out;
  }
}
