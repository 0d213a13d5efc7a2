/**
 * Which processing runs bench:jobs makes (bench/jobs.ts): the systems at each number of worker
 * processes on PostgreSQL, the SQLite queues, and where tend-sqlite's worker runs; how each is
 * reported (system column, metric row, table) and which runs are compared back to back (group).
 */
import {
  CONCURRENCY,
  GRAPHILE,
  LITEQUE,
  PGBOSS,
  PLAINJOB,
  type SystemSpec,
  TEND_DEFAULTS,
  TEND_OBSERVED,
  TEND_OBSERVED_SDK,
  TEND_SQLITE_DEFAULTS,
  TEND_SQLITE_FULL,
  TEND_SQLITE_NORMAL,
  TEND_TUNED,
  TEND_UNANALYZED,
} from "./catalogue.ts";

/** One kind of processing run: a system, its worker processes, and how it is set up. */
export interface Variant {
  /** Column (system) and metric the result is reported under. */
  system: string;
  metric: string;
  section: "pg" | "procs" | "sqlite" | "where" | "observe";
  spec: SystemSpec;
  jobs: number;
  processes: number;
  analyze: boolean;
  statsEveryMs?: number;
  /** Also report the enqueue rate of these runs. */
  enqueueRow: boolean;
  /** Runs of one group are compared with each other and run back to back (see bench/jobs.ts). */
  group: string;
}

export interface PlanOptions {
  jobs: number;
  sqliteJobs: number;
  smoke: boolean;
  /** Which measurements run: process, procs, sqlite (others are not processing runs). */
  phases: ReadonlySet<string>;
  /** How often the enqueuer reads stats in the "where the worker runs" rows. */
  statsEveryMs: number;
  /**
   * Worker process counts of the many-processes table (default 1, 2 and 4; smoke 1 and 2). Its
   * 1-process row is the plain processing run, which the procs phase then runs itself when the
   * process phase is left out.
   */
  procs?: readonly number[];
}

/** The metric names of the processing rows. */
export function metricNames(o: Pick<PlanOptions, "jobs" | "sqliteJobs">) {
  return {
    pgProcess: `process ${o.jobs}, concurrency ${CONCURRENCY}`,
    observeProcess: `process ${o.jobs}, concurrency ${CONCURRENCY}, observability phase`,
    sqliteProcess: `process ${o.sqliteJobs}, 1 worker process`,
    procsMetric: (k: number): string => `process ${o.jobs}, ${k} worker process${k === 1 ? "" : "es"}`,
  };
}

export function planRuns(o: PlanOptions): Variant[] {
  const { pgProcess, sqliteProcess, procsMetric, observeProcess } = metricNames(o);
  const { phases } = o;
  /** Worker processes of the many-processes table besides 1 (smoke: only 2, to keep it short). */
  const manyProcesses = o.procs?.filter((k) => k > 1) ?? (o.smoke ? [2] : [2, 4]);
  const procsSystems = [TEND_TUNED, GRAPHILE, PGBOSS];
  const out: Variant[] = [];
  const pg = (spec: SystemSpec, analyze = true): Variant => ({
    system: spec.name,
    metric: pgProcess,
    section: "pg",
    spec,
    jobs: o.jobs,
    processes: 1,
    analyze,
    enqueueRow: analyze && spec !== TEND_DEFAULTS,
    group: "postgres, 1 process",
  });
  if (phases.has("process"))
    out.push(pg(TEND_TUNED), pg(TEND_DEFAULTS), pg(TEND_UNANALYZED, false), pg(GRAPHILE), pg(PGBOSS));
  // Observability on against off, back to back in their own group (same configuration otherwise).
  if (phases.has("observe"))
    for (const spec of [TEND_TUNED, TEND_OBSERVED, TEND_OBSERVED_SDK])
      out.push({
        ...pg(spec),
        metric: observeProcess,
        section: "observe",
        enqueueRow: false,
        group: "observability",
      });
  if (phases.has("procs") && !phases.has("process") && (o.procs ?? [1]).includes(1))
    out.push(...procsSystems.map((spec) => pg(spec)));
  if (phases.has("procs"))
    for (const spec of procsSystems)
      for (const k of manyProcesses)
        out.push({
          ...pg(spec),
          metric: procsMetric(k),
          section: "procs",
          processes: k,
          enqueueRow: false,
          group: `postgres, ${k} processes`,
        });
  const lite = (spec: SystemSpec, processes = 1): Variant => ({
    system: spec.name,
    metric: processes === 1 ? sqliteProcess : `process ${o.sqliteJobs}, ${processes} worker processes`,
    section: "sqlite",
    spec,
    jobs: o.sqliteJobs,
    processes,
    analyze: false,
    enqueueRow: processes === 1,
    group: "sqlite queues",
  });
  if (phases.has("sqlite")) {
    out.push(lite(TEND_SQLITE_FULL), lite(TEND_SQLITE_NORMAL), lite(PLAINJOB), lite(LITEQUE));
    // plainjob's README scales with one worker process per CPU.
    out.push(lite(PLAINJOB, 2));
    const where = (spec: SystemSpec, metric: string, processes: number, statsEveryMs?: number): Variant => ({
      ...lite(spec, processes),
      metric: `process ${o.sqliteJobs}, ${metric}`,
      section: "where",
      enqueueRow: false,
      group: `where ${spec.name}`,
      ...(statsEveryMs === undefined ? {} : { statsEveryMs }),
    });
    // The tuned configuration's plain 1-process run is the SQLite table's; the defaults need their
    // own. Smoke runs leave the defaults out (the same code paths, half the processes).
    if (!o.smoke) out.push(where(TEND_SQLITE_DEFAULTS, "1 worker process", 1));
    for (const spec of o.smoke ? [TEND_SQLITE_FULL] : [TEND_SQLITE_FULL, TEND_SQLITE_DEFAULTS])
      out.push(
        where(spec, "worker in the enqueuing process", 0),
        where(spec, "3 worker processes", 3),
        where(spec, `1 worker process, enqueuer reads stats every ${o.statsEveryMs} ms`, 1, o.statsEveryMs),
        where(spec, `3 worker processes, enqueuer reads stats every ${o.statsEveryMs} ms`, 3, o.statsEveryMs),
      );
  }
  return out;
}
