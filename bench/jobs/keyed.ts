/**
 * The keyed phase of bench:jobs: what concurrency keys and rate limits cost and how well they
 * hold, on each driver, every worker in its own child process (bench/jobs/child.ts, system tend):
 *
 * - throughput: the same no-op jobs processed plain, and spread over many concurrency keys of
 *   limit 2 each (same jobs, same worker concurrency and claim-ahead);
 * - fairness: one key holding 90% of the backlog (its limit high enough to take every slot) and
 *   the other keys' jobs behind it; the start times of those minority jobs (from the worker's
 *   "work" command), against the same minority jobs enqueued alone;
 * - rate accuracy: jobs under one rate limit of N per second, two worker processes; the starts the
 *   database records per wall-clock second over a span of whole seconds.
 */
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { quantile } from "../_support/report.ts";
import { type Driver, type SystemSpec, TEND_SQLITE_FULL, TEND_TUNED } from "./catalogue.ts";
import { nowMs } from "./clock.ts";
import { type BenchDatabase, benchDatabase } from "./databases.ts";
import { queryOnce } from "./pg-admin.ts";
import { allHandled, BenchChild } from "./procs.ts";
import { type ProcessResult, processRun } from "./runs.ts";
import type { SystemOptions } from "./systems/system.ts";

/** tend's tuned configuration on a driver (the spec the plain runs use). */
export function tendSpec(driver: Driver): SystemSpec {
  return driver === "postgres" ? TEND_TUNED : TEND_SQLITE_FULL;
}

/** The tuned spec with every job under one of `keys` concurrency keys of limit `limit`. */
export function keyedSpec(driver: Driver, keys: number, limit: number): SystemSpec {
  const base = tendSpec(driver);
  return {
    ...base,
    name: `${base.name} (${keys} keys, limit ${limit})`,
    describe: `${base.name} (${keys} keys, limit ${limit}): the tuned configuration, job i under concurrency key k<i mod ${keys}>, concurrencyLimit ${limit}`,
    options: (k, i) => ({ ...base.options(k, i), keys, keyLimit: limit }),
  };
}

/** Plain and keyed processing of the same jobs, back to back. */
export async function keyedThroughput(
  driver: Driver,
  o: { jobs: number; chunk: number; keys: number; limit: number; timeoutMs: number; inProducer: boolean },
): Promise<{ plain: ProcessResult; keyed: ProcessResult }> {
  const run = (spec: SystemSpec): Promise<ProcessResult> =>
    processRun({
      spec,
      jobs: o.jobs,
      chunk: Math.min(o.chunk, o.jobs),
      processes: o.inProducer ? 0 : 1,
      analyze: true,
      timeoutMs: o.timeoutMs,
    });
  const plain = await run(tendSpec(driver));
  const keyed = await run(keyedSpec(driver, o.keys, o.limit));
  return { plain, keyed };
}

export interface FairnessPlan {
  /** Jobs of the big key. */
  big: number;
  /** Jobs of the other keys, `perKey` each. */
  minority: number;
  /** Limit of each minority key. */
  keyLimit: number;
  /** Limit of the big key (CONCURRENCY: it could take every slot). */
  bigLimit: number;
  /** How long each handler works. */
  workMs: number;
  /** The producer process is the worker too (smoke runs: fewer processes to start). */
  inProducer: boolean;
  timeoutMs: number;
}

/** Start times of the minority jobs, ms from the worker's "work" command. */
export interface FairnessResult {
  p50Ms: number;
  maxMs: number;
  /** Time to handle every job of the run. */
  totalMs: number;
}

/**
 * One fairness run: the minority jobs (indexes `big`..`big+minority-1`, keys k0..), with the big
 * key's jobs (indexes 0..big-1) enqueued first when `withBig`, one worker process at the tuned
 * configuration.
 */
export async function fairnessRun(
  driver: Driver,
  plan: FairnessPlan,
  keys: number,
  withBig: boolean,
): Promise<FairnessResult> {
  const spec = tendSpec(driver);
  const db = await benchDatabase(driver);
  const url = db.url + (spec.urlSuffix ?? "");
  const options: SystemOptions = {
    ...spec.options(1, 0),
    keys,
    keyLimit: plan.keyLimit,
    bigJobs: plan.big,
    bigLimit: plan.bigLimit,
    markFrom: plan.big,
    workMs: plan.workMs,
  };
  const children: BenchChild[] = [];
  try {
    const producer = await BenchChild.start(`${spec.name} fairness producer`, {
      module: "tend",
      url,
      options,
    });
    children.push(producer);
    const n = withBig ? plan.big + plan.minority : plan.minority;
    await producer.request({ cmd: "load", n, chunk: 5_000, offset: withBig ? 0 : plan.big }, plan.timeoutMs);
    let worker = producer;
    if (!plan.inProducer) {
      await producer.close();
      worker = await BenchChild.start(`${spec.name} fairness worker`, { module: "tend", url, options });
      children.push(worker);
    }
    const t0 = nowMs();
    await worker.request({ cmd: "work" });
    await allHandled([worker], n, plan.timeoutMs);
    const totalMs = nowMs() - t0;
    const { starts } = await worker.request<{ starts: Array<[number, number]> }>({ cmd: "starts" });
    if (starts.length !== plan.minority)
      throw new Error(`fairness: ${starts.length} minority starts recorded, expected ${plan.minority}`);
    const offsets = starts.map(([, at]) => at - t0);
    return { p50Ms: quantile(offsets, 0.5), maxMs: Math.max(...offsets), totalMs };
  } finally {
    await Promise.all(children.map((c) => c.close()));
    await db.drop();
  }
}

export interface RatePlan {
  /** Starts allowed per second. */
  limit: number;
  /** Whole seconds counted. */
  seconds: number;
  /** Worker processes. */
  processes: number;
  /** The producer process is the first worker (smoke runs: fewer processes to start). */
  inProducer: boolean;
  timeoutMs: number;
}

export interface RateResult {
  /** Starts per second over the counted seconds. */
  achieved: number;
  /** The most starts recorded in one second (a second over the limit breaks the limit). */
  maxPerSecond: number;
  /** The fewest in one counted second. */
  minPerSecond: number;
}

/** Starts per wall-clock second (epoch seconds), read from the job table. */
async function startsPerSecond(db: BenchDatabase): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (db.driver === "postgres") {
    const rows = await queryOnce<{ s: string; n: number }>(
      db.url,
      "SELECT floor(extract(epoch FROM started_at))::bigint::text AS s, count(*)::int AS n FROM tend.jobs WHERE started_at IS NOT NULL GROUP BY 1",
    );
    for (const r of rows) out.set(Number(r.s), r.n);
    return out;
  }
  const file = new DatabaseSync(db.name, { readOnly: true });
  try {
    const rows = file
      .prepare(
        "SELECT started_at / 1000 AS s, count(*) AS n FROM tend_jobs WHERE started_at IS NOT NULL GROUP BY 1",
      )
      .all() as Array<{ s: number | bigint; n: number | bigint }>;
    for (const r of rows) out.set(Number(r.s), Number(r.n));
    return out;
  } finally {
    file.close();
  }
}

/**
 * Jobs under one rate limit of `limit` a second (`concurrencyKey` "rated"), more than can start in
 * the span, worked by `processes` worker processes (the tuned concurrency split between them) for
 * the span and a second either side. Counted: the starts recorded in the whole seconds after the
 * first second with a start.
 */
export async function rateRun(driver: Driver, plan: RatePlan): Promise<RateResult> {
  const spec = tendSpec(driver);
  const db = await benchDatabase(driver);
  const url = db.url + (spec.urlSuffix ?? "");
  const children: BenchChild[] = [];
  const rated = { rateLimit: plan.limit, ratePerMs: 1_000 };
  try {
    const producer = await BenchChild.start(`${spec.name} rate producer`, {
      module: "tend",
      url,
      options: { ...spec.options(1, 0), ...rated },
    });
    children.push(producer);
    const n = Math.ceil(plan.limit * (plan.seconds + 4) * 1.2);
    await producer.request({ cmd: "load", n, chunk: 5_000, offset: 0 }, plan.timeoutMs);
    if (!plan.inProducer) await producer.close();
    const started = await Promise.all(
      Array.from({ length: plan.inProducer ? plan.processes - 1 : plan.processes }, (_, i) =>
        BenchChild.start(`${spec.name} rate worker ${i + 1}/${plan.processes}`, {
          module: "tend",
          url,
          options: { ...spec.options(plan.processes, i), ...rated },
        }),
      ),
    );
    children.push(...started);
    const workers = plan.inProducer ? [producer, ...started] : started;
    await Promise.all(workers.map((w) => w.request({ cmd: "work" })));
    // The first second with a start may be partial; the span is the next `seconds` whole seconds.
    await sleep((plan.seconds + 2.5) * 1_000);
    await Promise.all(workers.map((w) => w.close()));
    const perSecond = await startsPerSecond(db);
    const first = Math.min(...perSecond.keys());
    const counted = Array.from({ length: plan.seconds }, (_, i) => perSecond.get(first + 1 + i) ?? 0);
    return {
      achieved: counted.reduce((a, b) => a + b, 0) / plan.seconds,
      maxPerSecond: Math.max(...perSecond.values()),
      minPerSecond: Math.min(...counted),
    };
  } finally {
    await Promise.all(children.map((c) => c.close()));
    await db.drop();
  }
}
