/**
 * Jobs benchmark: tend against the job queues a user would compare it with, each run as users run
 * them: every system's worker in its own fresh Node process, the producer in another, the harness
 * only orchestrating (bench/jobs/runs.ts) and reading the database.
 *
 * PostgreSQL (same server, a fresh database per run): tend tuned (prefetch 500) and at its
 * defaults, graphile-worker and pg-boss at the throughput settings their docs publish
 * (bench/jobs/catalogue.ts). Per run: bulk enqueue (calls of 5,000), ANALYZE of the job table
 * (tend also once never analyzed), CHECKPOINT, then processing at total concurrency 50 until the
 * database records every job done; with 1, 2 and 4 worker processes sharing the concurrency and
 * claim-ahead. Latency: single-job enqueue call, and enqueue to handler start, probes one at a time.
 * Rescue of a SIGKILLed tend worker's job.
 *
 * SQLite: tend (synchronous FULL, its default, and NORMAL, the peers' setting) against plainjob and
 * liteque; and tend's worker in the enqueuing process, in one other process, in three.
 *
 * Medians of `--runs` repetitions (default 3), the order of the runs rotating each repetition.
 * `npm run bench:jobs` (`--smoke` tiny, `--json` JSON last line, `--runs N`, `--jobs N` (PostgreSQL),
 * `--sqlite-jobs N`, `--phases=process,procs,latency,rescue,sqlite,observe,keyed`, `--only=<system names>`,
 * `--pin`: the observability runs pinned, worker on CPU 1 and its PostgreSQL backends on CPU 0;
 * `--procs=1,4`: the worker process counts of the many-processes table; e.g. `--phases=procs
 * --only=tend-postgres --procs=1,4` runs tend's 1- and 4-process rows alone; `--warmup N`: each
 * worker process handles N jobs before the clock starts).
 *
 * Keyed (bench/jobs/keyed.ts), on both drivers: processing under 1,000 concurrency keys of limit 2
 * against the same jobs without keys; fairness (the start of the other keys' jobs behind one key
 * holding 90% of the backlog, against the same jobs alone); a rate limit's accuracy over 30 s with
 * two worker processes.
 */
import { median, parseFlags, quantile, type Row, report, type Section } from "./_support/report.ts";
import {
  GRAPHILE,
  LITEQUE,
  PGBOSS,
  PLAINJOB,
  type SystemSpec,
  TEND_DEFAULTS,
  TEND_OBSERVED,
  TEND_OBSERVED_SDK,
  TEND_SQLITE_FULL,
  TEND_SQLITE_NORMAL,
  TEND_TUNED,
  TEND_UNANALYZED,
  CONCURRENCY,
} from "./jobs/catalogue.ts";
import { cleanupAll, cleanupOnSignals } from "./jobs/cleanup.ts";
import { fairnessRun, keyedThroughput, rateRun } from "./jobs/keyed.ts";
import { measureRescue } from "./jobs/rescue.ts";
import { metricNames, planRuns, type Variant } from "./jobs/plan.ts";
import { latencyRun, type ProcessResult, processRun } from "./jobs/runs.ts";

const flags = parseFlags();
const benchStarted = performance.now();

/** `--name=value` or `--name value`. */
function argValue(name: string): string | undefined {
  const argv = process.argv;
  const eq = argv.find((a) => a.startsWith(`--${name}=`));
  if (eq !== undefined) return eq.slice(name.length + 3);
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? undefined : argv[at + 1];
}
function intArg(name: string, fallback: number): number {
  const text = argValue(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name}: expected a positive integer, got ${text}`);
  return value;
}

const size = flags.smoke
  ? { jobs: 400, sqliteJobs: 200, chunk: 100, runs: 1, samples: 10, warmup: 3, timeoutMs: 60_000 }
  : { jobs: 50_000, sqliteJobs: 20_000, chunk: 5_000, runs: 3, samples: 500, warmup: 20, timeoutMs: 600_000 };
size.jobs = intArg("jobs", size.jobs);
size.sqliteJobs = intArg("sqlite-jobs", size.sqliteJobs);
size.runs = intArg("runs", intArg("reps", size.runs));
/**
 * `--warmup N`: every processing run first has each worker process handle N jobs (enqueued before
 * the timed ones) before the clock starts: steady state, as long-lived processes run, rather than
 * each fresh process's compiling and caching. Default 0 (timed from the first job).
 */
const warmupPerProcess = intArg("warmup", 0);
const LEASE_MS = 2_000;
/** How often the enqueuing process reads `jobs.stats()` in the "where the worker runs" rows. */
const STATS_EVERY_MS = 20;
const phases = new Set(
  (argValue("phases") ?? "process,procs,latency,rescue,sqlite,observe,keyed").split(","),
);
/** The keyed phase's sizes (bench/jobs/keyed.ts). */
const keyedSize = flags.smoke
  ? { keys: 100, big: 900, minority: 100, minorityKeys: 20, workMs: 2, rate: 50, rateSeconds: 2 }
  : { keys: 1_000, big: 9_000, minority: 1_000, minorityKeys: 100, workMs: 2, rate: 100, rateSeconds: 30 };
/** Per-key concurrency limit of the keyed processing runs and of the fairness run's small keys. */
const KEY_LIMIT = 2;
const only = argValue("only")?.split(",");
/** `--pin`: the observability runs' worker on CPU 1 and their PostgreSQL backends on CPU 0 (taskset). */
const pin = process.argv.includes("--pin");
const procCounts = argValue("procs")
  ?.split(",")
  .map((text) => {
    const k = Number(text);
    if (!Number.isInteger(k) || k < 1) throw new Error(`--procs: expected positive integers, got ${text}`);
    return k;
  });
const included = (spec: SystemSpec): boolean => only === undefined || only.includes(spec.name);

const progress = (line: string): void => {
  process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(1)} s] ${line}\n`);
};

const { pgProcess, sqliteProcess, procsMetric, observeProcess } = metricNames(size);

async function main(): Promise<void> {
  const rows: Row[] = [];
  type SectionName = Variant["section"] | "latency" | "keyed";
  const sectionsOf = new Map<Row, Set<SectionName>>();
  const add = (row: Row, ...sections: SectionName[]): void => {
    if (!sectionsOf.has(row)) rows.push(row);
    sectionsOf.set(row, new Set([...(sectionsOf.get(row) ?? []), ...sections]));
  };

  const plan = planRuns({
    jobs: size.jobs,
    sqliteJobs: size.sqliteJobs,
    smoke: flags.smoke,
    phases,
    statsEveryMs: STATS_EVERY_MS,
    ...(procCounts === undefined ? {} : { procs: procCounts }),
  }).filter((v) => included(v.spec));
  const results = new Map<Variant, ProcessResult[]>(plan.map((v) => [v, []]));
  // Repetitions interleave the runs, so that drift on the shared machine (2x within minutes) hits
  // all alike. Runs that are compared run back to back as a group (the systems at one process
  // count; the SQLite queues; where tend-sqlite's worker runs); each repetition rotates the order
  // of the groups and the order within each group by one, so that no run always follows the same
  // one. Ratios are the median of each repetition's own ratio (runs minutes apart at most).
  const rotate = <T>(xs: readonly T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]!);
  const groups = [...new Set(plan.map((v) => v.group))].map((g) => plan.filter((v) => v.group === g));
  for (let rep = 0; rep < size.runs; rep++) {
    for (const group of rotate(groups, rep)) {
      // The observability runs alternate mirrored (off, on, sdk, then sdk, on, off): off and on
      // always run next to each other, each first half the time.
      const mirrored = group[0]!.section === "observe";
      const order = !mirrored ? rotate(group, rep) : rep % 2 === 0 ? group : [...group].reverse();
      for (const v of order) {
        const r = await processRun({
          spec: v.spec,
          jobs: v.jobs,
          chunk: Math.min(size.chunk, v.jobs),
          processes: v.processes,
          analyze: v.analyze,
          ...(v.statsEveryMs === undefined ? {} : { statsEveryMs: v.statsEveryMs }),
          timeoutMs: size.timeoutMs,
          ...(warmupPerProcess > 0 ? { warmupJobs: warmupPerProcess * Math.max(1, v.processes) } : {}),
          ...(pin && v.section === "observe" ? { pin: { workers: 1, backends: 0 } } : {}),
        });
        results.get(v)!.push(r);
        progress(
          `run ${rep + 1}/${size.runs} ${v.system} [${v.metric}]: enqueue ${r.enqueueRate.toFixed(0)}/s, process ${r.processRate.toFixed(0)}/s, CPU/job node ${r.nodeCpuUs.toFixed(0)} µs, postgres ${r.pgCpuUs?.toFixed(0) ?? "-"} µs`,
        );
      }
    }
  }
  /** The runs of the variant reported as (system, metric), in repetition order. */
  const runsOf = (system: string, metric: string): ProcessResult[] | undefined => {
    const m = metric === procsMetric(1) ? pgProcess : metric;
    const v = plan.find((x) => x.system === system && x.metric === m);
    return v === undefined ? undefined : results.get(v);
  };
  for (const v of plan) {
    const rs = results.get(v)!;
    const med = (f: (r: ProcessResult) => number | null): number =>
      median(rs.map(f).filter((x): x is number => x !== null));
    if (v.enqueueRow)
      add(
        {
          system: v.system,
          metric: `enqueue ${v.jobs} in bulk (calls of ${Math.min(size.chunk, v.jobs)})`,
          value: med((r) => r.enqueueRate),
          unit: "jobs/s",
        },
        v.section,
      );
    add({ system: v.system, metric: v.metric, value: med((r) => r.processRate), unit: "jobs/s" }, v.section);
    const suffix =
      v.section === "pg" || v.metric === sqliteProcess
        ? ""
        : ` (${v.metric.replace(/^process [0-9]+, /, "")})`;
    const cpu: Array<[string, (r: ProcessResult) => number | null]> = [
      ["worker processes", (r) => r.nodeCpuUs],
    ];
    if (v.spec.driver === "postgres") cpu.push(["PostgreSQL backends", (r) => r.pgCpuUs]);
    for (const [who, of] of cpu)
      add(
        { system: v.system, metric: `CPU per job, ${who}${suffix}`, value: med(of), unit: "µs" },
        v.section,
      );
  }
  // The 1-process rows of the many-processes table and of "where the worker runs" are the plain
  // processing runs.
  for (const row of [...rows]) {
    if (phases.has("procs") && sectionsOf.get(row)!.has("pg") && row.metric === pgProcess)
      if ([TEND_TUNED, GRAPHILE, PGBOSS].some((s) => s.name === row.system))
        add({ ...row, metric: procsMetric(1) }, "procs");
    if (row.system === TEND_SQLITE_FULL.name && sectionsOf.get(row)!.has("sqlite"))
      if (row.metric === sqliteProcess || row.metric === "CPU per job, worker processes") add(row, "where");
  }

  if (phases.has("latency")) {
    const latencyRuns: Array<{ spec: SystemSpec; inProcess: boolean; suffix: string }> = [
      { spec: TEND_TUNED, inProcess: false, suffix: "" },
      { spec: TEND_DEFAULTS, inProcess: false, suffix: "" },
      { spec: GRAPHILE, inProcess: false, suffix: "" },
      { spec: PGBOSS, inProcess: false, suffix: "" },
      { spec: TEND_SQLITE_FULL, inProcess: false, suffix: ", enqueuer in another process" },
      { spec: TEND_SQLITE_FULL, inProcess: true, suffix: ", enqueuer in the worker process" },
    ];
    for (const { spec, inProcess, suffix } of latencyRuns.filter((l) => included(l.spec))) {
      const r = await latencyRun(spec, size.samples, size.warmup, inProcess, size.timeoutMs);
      const section = spec.driver === "postgres" ? "latency" : "where";
      const system = spec.name;
      for (const [what, values] of [
        ["enqueue one job", r.enqueueCallMs],
        ["latency enqueue to start", r.toStartMs],
      ] as const)
        for (const q of [0.5, 0.99])
          add(
            { system, metric: `${what}, p${q * 100}${suffix}`, value: quantile(values, q), unit: "ms" },
            section,
          );
      progress(
        `latency ${system}${suffix}: p50 ${quantile(r.toStartMs, 0.5).toFixed(2)} ms, p99 ${quantile(r.toStartMs, 0.99).toFixed(2)} ms`,
      );
    }
  }

  // Both drivers at once: each run mostly waits for its lease to lapse.
  const drivers = (["postgres", "sqlite"] as const).filter(
    (d) => phases.has("rescue") && included(d === "postgres" ? TEND_TUNED : TEND_SQLITE_FULL),
  );
  const rescues = await Promise.all(drivers.map((driver) => measureRescue(driver, LEASE_MS)));
  drivers.forEach((driver, i) => {
    const system = driver === "postgres" ? TEND_TUNED.name : TEND_SQLITE_FULL.name;
    progress(`rescue ${system}: ${rescues[i]!.toFixed(0)} ms after SIGKILL (lease ${LEASE_MS} ms)`);
    add(
      {
        system,
        metric: `rescue after SIGKILL minus lease (${LEASE_MS} ms)`,
        value: rescues[i]! - LEASE_MS,
        unit: "ms",
      },
      driver === "postgres" ? "latency" : "where",
    );
  });

  const keyedRatios = phases.has("keyed") ? await keyedPhase(add) : {};

  const value = (system: string, metric: string): number | undefined =>
    rows.find((r) => r.system === system && r.metric.startsWith(metric))?.value;
  const ratios: Record<string, number> = { ...keyedRatios };
  const ratio = (name: string, a: number | undefined, b: number | undefined): void => {
    if (a !== undefined && b !== undefined) ratios[name] = a / b;
  };
  /** Median over repetitions of each repetition's ratio a/b (runs of one block, close in time). */
  const paired = (
    name: string,
    a: [string, string],
    b: [string, string],
    field: "processRate" | "enqueueRate" = "processRate",
  ): void => {
    const ra = runsOf(...a);
    const rb = runsOf(...b);
    if (ra === undefined || rb === undefined || ra.length === 0 || ra.length !== rb.length) return;
    ratios[name] = median(ra.map((r, i) => r[field] / rb[i]![field]));
  };
  for (const tend of [TEND_TUNED, TEND_DEFAULTS, TEND_UNANALYZED])
    for (const peer of [GRAPHILE, PGBOSS])
      paired(`process ${tend.name} / ${peer.name}`, [tend.name, pgProcess], [peer.name, pgProcess]);
  for (const peer of [GRAPHILE, PGBOSS])
    paired(
      `enqueue ${TEND_TUNED.name} / ${peer.name}`,
      [TEND_TUNED.name, pgProcess],
      [peer.name, pgProcess],
      "enqueueRate",
    );
  paired(
    `process ${TEND_TUNED.name} 4 processes / 1 process`,
    [TEND_TUNED.name, procsMetric(4)],
    [TEND_TUNED.name, procsMetric(1)],
  );
  paired(
    `process 4 processes ${TEND_TUNED.name} / ${GRAPHILE.name}`,
    [TEND_TUNED.name, procsMetric(4)],
    [GRAPHILE.name, procsMetric(4)],
  );
  for (const peer of [GRAPHILE, PGBOSS])
    ratio(
      `latency p50 ${peer.name} / ${TEND_TUNED.name}`,
      value(peer.name, "latency enqueue to start, p50"),
      value(TEND_TUNED.name, "latency enqueue to start, p50"),
    );
  const observeNotes: string[] = [];
  for (const observed of [TEND_OBSERVED, TEND_OBSERVED_SDK]) {
    const name = `process ${observed.name} / ${TEND_TUNED.name}`;
    paired(name, [observed.name, observeProcess], [TEND_TUNED.name, observeProcess]);
    // Worker CPU per job, on against off: what observing costs the worker, whatever the rate.
    const on = runsOf(observed.name, observeProcess);
    const off = runsOf(TEND_TUNED.name, observeProcess);
    if (on === undefined || off === undefined || on.length === 0 || on.length !== off.length) continue;
    ratios[`worker CPU per job ${observed.name} / ${TEND_TUNED.name}`] = median(
      on.map((r, i) => r.nodeCpuUs / off[i]!.nodeCpuUs),
    );
    observeNotes.push(
      `${observed.name} / ${TEND_TUNED.name}, each repetition: rate ${on.map((r, i) => (r.processRate / off[i]!.processRate).toFixed(2)).join(", ")}; worker CPU µs per job on/off ${on.map((r, i) => `${r.nodeCpuUs.toFixed(1)}/${off[i]!.nodeCpuUs.toFixed(1)}`).join(", ")}`,
    );
  }
  for (const tend of [TEND_SQLITE_FULL, TEND_SQLITE_NORMAL])
    for (const peer of [PLAINJOB, LITEQUE]) {
      paired(`process ${tend.name} / ${peer.name}`, [tend.name, sqliteProcess], [peer.name, sqliteProcess]);
      paired(
        `enqueue ${tend.name} / ${peer.name}`,
        [tend.name, sqliteProcess],
        [peer.name, sqliteProcess],
        "enqueueRate",
      );
    }

  const sections: Section[] = [
    { title: "PostgreSQL: one worker process per system", section: "pg" },
    { title: "PostgreSQL: latency (probes one at a time) and rescue", section: "latency" },
    {
      title: `PostgreSQL: worker processes sharing total concurrency ${CONCURRENCY} (and the claim-ahead)`,
      section: "procs",
    },
    { title: "SQLite: one worker process per system", section: "sqlite" },
    { title: "tend-sqlite (FULL): where the worker runs", section: "where" },
    {
      title: "PostgreSQL: the cost of observability (metrics, OpenTelemetry, onError) on processing",
      section: "observe",
    },
    { title: "Concurrency keys and rate limits (both drivers)", section: "keyed" },
  ].map(({ title, section }) => ({
    title,
    rows: rows.filter((r) => sectionsOf.get(r)!.has(section as SectionName)),
  }));
  const notes = [
    `every worker and every producer is its own fresh Node ${process.version} process; the harness only spawns them, times them and reads the database`,
    `PostgreSQL: ${size.jobs} no-op jobs a run, SQLite: ${size.sqliteJobs}; enqueued in calls of ${size.chunk}; medians of ${size.runs} run(s), each on a fresh database; the PostgreSQL runs and the SQLite runs each a block whose order rotates each repetition; processing and enqueue ratios are medians of each repetition's ratio`,
    "processing: PostgreSQL tables ANALYZEd after the load (except the unanalyzed row) and a CHECKPOINT before; timed from the worker's start until the database records every job done",
    ...(warmupPerProcess > 0
      ? [
          `warm-up: each processing run enqueues ${warmupPerProcess} more jobs per worker process ahead of the timed ones, and its clock and CPU counts start once those are handled (steady state of warmed-up processes)`,
        ]
      : []),
    "CPU per job: user + system time of the worker processes and of the run's PostgreSQL backends (from /proc) over the processing run, divided by the jobs",
    `latency: ${size.samples} probe jobs (after ${size.warmup} not counted) enqueued one at a time with 5-10 ms gaps by a producer process, to a worker process at the configuration above`,
    ...plan
      .map((v) => v.spec)
      .filter((s, i, all) => all.indexOf(s) === i)
      .map((s) => `configuration ${s.describe}`),
    ...(phases.has("keyed")
      ? [
          `keyed: processing ${size.jobs} (PostgreSQL) / ${size.sqliteJobs} (SQLite) no-op jobs, one worker process at the tuned configuration, without keys and under ${keyedSize.keys} keys of limit ${KEY_LIMIT} (job i: key k<i mod ${keyedSize.keys}>); medians of ${size.runs} run(s); CPU per job as above, and plain/keyed CPU per job (worker plus PostgreSQL), the ratio the rates approach when a run keeps every core busy`,
          `keyed fairness: ${keyedSize.big} jobs of one key (limit ${CONCURRENCY}) enqueued before ${keyedSize.minority} jobs of ${keyedSize.minorityKeys} other keys (limit ${KEY_LIMIT}), each handler ${keyedSize.workMs} ms, one worker process; start of the minority jobs from the worker's start, against the same minority jobs enqueued alone`,
          `keyed rate: jobs under one rate limit of ${keyedSize.rate}/s, two worker processes (concurrency ${CONCURRENCY} split), starts per wall-clock second read from the database over ${keyedSize.rateSeconds} whole seconds`,
        ]
      : []),
    ...(observeNotes.length === 0
      ? []
      : [
          `observability: ${size.runs} repetitions of off, on (and the SDK) in mirrored order; ratios are medians of each repetition's own ratio${pin ? "; worker pinned to CPU 1, its PostgreSQL backends to CPU 0 (taskset)" : ""}`,
          ...observeNotes,
        ]),
    ...targets(value, ratios),
  ];
  report("jobs", rows, ratios, flags, notes, sections);
}

function targets(
  value: (system: string, metric: string) => number | undefined,
  ratios: Record<string, number>,
): string[] {
  const out: string[] = [];
  const check = (
    label: string,
    actual: number | undefined,
    ok: (v: number) => boolean,
    shown: string,
  ): void => {
    if (actual === undefined) return;
    out.push(`target ${label}: ${shown} -> ${ok(actual) ? "met" : "NOT MET"}`);
  };
  const gw = ratios[`process ${TEND_TUNED.name} / ${GRAPHILE.name}`];
  const pb = ratios[`process ${TEND_TUNED.name} / ${PGBOSS.name}`];
  check("process tend-postgres >= 1.5x graphile-worker", gw, (r) => r >= 1.5, `${gw?.toFixed(2)}x`);
  check("process tend-postgres >= 3x pg-boss", pb, (r) => r >= 3, `${pb?.toFixed(2)}x`);
  const ob = ratios[`process ${TEND_OBSERVED.name} / ${TEND_TUNED.name}`];
  check("process with observability on (no SDK) >= 0.95x off", ob, (r) => r >= 0.95, `${ob?.toFixed(3)}x`);
  const lp = value(TEND_TUNED.name, "latency enqueue to start, p50");
  check("latency p50 <= 5 ms on PostgreSQL", lp, (v) => v <= 5, `${lp?.toFixed(2)} ms`);
  for (const system of [TEND_TUNED.name, TEND_SQLITE_FULL.name]) {
    const r = value(system, "rescue");
    check(`rescue within lease + 5 s (${system})`, r, (v) => v <= 5_000, `lease + ${r?.toFixed(0)} ms`);
  }
  const drivers = ["postgres", "sqlite"] as const;
  for (const d of drivers) {
    const k = ratios[`keyed/plain process (${d})`];
    check(`keyed processing >= 0.7x plain (${d})`, k, (r) => r >= 0.7, `${k?.toFixed(2)}x`);
    for (const q of ["p50", "max"]) {
      const f = ratios[`fairness ${q} behind a big key / alone (${d})`];
      check(`fairness ${q} within 2x (${d})`, f, (r) => r <= 2, `${f?.toFixed(2)}x`);
    }
    const r = ratios[`rate achieved / limit (${d})`];
    check(`rate limit within 5% (${d})`, r, (v) => Math.abs(v - 1) <= 0.05, `${r?.toFixed(3)}x`);
  }
  return out;
}

/** The keyed phase (bench/jobs/keyed.ts) on both drivers: rows added, ratios returned. */
async function keyedPhase(add: (row: Row, section: "keyed") => void): Promise<Record<string, number>> {
  const ratios: Record<string, number> = {};
  const oneDriver = async (driver: "postgres" | "sqlite"): Promise<void> => {
    const spec = driver === "postgres" ? TEND_TUNED : TEND_SQLITE_FULL;
    if (!included(spec)) return;
    const system = spec.name;
    const jobs = driver === "postgres" ? size.jobs : size.sqliteJobs;
    const through: number[] = [];
    const plainRates: number[] = [];
    const keyedRates: number[] = [];
    const fair = {
      aloneP50: [] as number[],
      bigP50: [] as number[],
      aloneMax: [] as number[],
      bigMax: [] as number[],
    };
    const fairRatios = { p50: [] as number[], max: [] as number[] };
    // CPU per job of the worker process and (PostgreSQL) of the run's backends, plain and keyed:
    // on a machine whose cores the run saturates, the rates' ratio follows the CPU ratio.
    const cpu = {
      plainNode: [] as number[],
      keyedNode: [] as number[],
      plainPg: [] as number[],
      keyedPg: [] as number[],
    };
    const cpuRatios: number[] = [];
    const fairness = {
      big: keyedSize.big,
      minority: keyedSize.minority,
      keyLimit: KEY_LIMIT,
      bigLimit: CONCURRENCY,
      workMs: keyedSize.workMs,
      inProducer: flags.smoke,
      timeoutMs: size.timeoutMs,
    };
    for (let rep = 0; rep < size.runs; rep++) {
      const t = await keyedThroughput(driver, {
        jobs,
        chunk: size.chunk,
        keys: keyedSize.keys,
        limit: KEY_LIMIT,
        timeoutMs: size.timeoutMs,
        inProducer: flags.smoke,
      });
      plainRates.push(t.plain.processRate);
      keyedRates.push(t.keyed.processRate);
      through.push(t.keyed.processRate / t.plain.processRate);
      cpu.plainNode.push(t.plain.nodeCpuUs);
      cpu.keyedNode.push(t.keyed.nodeCpuUs);
      if (t.plain.pgCpuUs !== null) cpu.plainPg.push(t.plain.pgCpuUs);
      if (t.keyed.pgCpuUs !== null) cpu.keyedPg.push(t.keyed.pgCpuUs);
      cpuRatios.push(
        (t.plain.nodeCpuUs + (t.plain.pgCpuUs ?? 0)) / (t.keyed.nodeCpuUs + (t.keyed.pgCpuUs ?? 0)),
      );
      progress(
        `keyed ${system} run ${rep + 1}/${size.runs}: plain ${t.plain.processRate.toFixed(0)}/s, ${keyedSize.keys} keys ${t.keyed.processRate.toFixed(0)}/s`,
      );
      const alone = await fairnessRun(driver, fairness, keyedSize.minorityKeys, false);
      const behind = await fairnessRun(driver, fairness, keyedSize.minorityKeys, true);
      fair.aloneP50.push(alone.p50Ms);
      fair.bigP50.push(behind.p50Ms);
      fair.aloneMax.push(alone.maxMs);
      fair.bigMax.push(behind.maxMs);
      fairRatios.p50.push(behind.p50Ms / alone.p50Ms);
      fairRatios.max.push(behind.maxMs / alone.maxMs);
      progress(
        `fairness ${system}: minority start p50 ${alone.p50Ms.toFixed(0)} ms alone, ${behind.p50Ms.toFixed(0)} ms behind the big key; max ${alone.maxMs.toFixed(0)} / ${behind.maxMs.toFixed(0)} ms (all jobs ${behind.totalMs.toFixed(0)} ms)`,
      );
    }
    const row = (metric: string, value: number, unit: string): void =>
      add({ system, metric, value, unit }, "keyed");
    row(`keyed: process ${jobs}, no keys`, median(plainRates), "jobs/s");
    row(`keyed: process ${jobs}, ${keyedSize.keys} keys of limit ${KEY_LIMIT}`, median(keyedRates), "jobs/s");
    row("keyed: CPU per job, no keys, worker process", median(cpu.plainNode), "µs");
    row(`keyed: CPU per job, ${keyedSize.keys} keys, worker process`, median(cpu.keyedNode), "µs");
    if (cpu.plainPg.length > 0) {
      row("keyed: CPU per job, no keys, PostgreSQL", median(cpu.plainPg), "µs");
      row(`keyed: CPU per job, ${keyedSize.keys} keys, PostgreSQL`, median(cpu.keyedPg), "µs");
    }
    ratios[`plain/keyed CPU per job (${driver})`] = median(cpuRatios);
    row("fairness: minority jobs' start, p50, alone", median(fair.aloneP50), "ms");
    row("fairness: minority jobs' start, p50, behind a key with 90%", median(fair.bigP50), "ms");
    row("fairness: minority jobs' start, max, alone", median(fair.aloneMax), "ms");
    row("fairness: minority jobs' start, max, behind a key with 90%", median(fair.bigMax), "ms");
    ratios[`keyed/plain process (${driver})`] = median(through);
    ratios[`fairness p50 behind a big key / alone (${driver})`] = median(fairRatios.p50);
    ratios[`fairness max behind a big key / alone (${driver})`] = median(fairRatios.max);
    const rate = await rateRun(driver, {
      limit: keyedSize.rate,
      seconds: keyedSize.rateSeconds,
      processes: 2,
      inProducer: flags.smoke,
      timeoutMs: size.timeoutMs,
    });
    progress(
      `rate ${system}: ${rate.achieved.toFixed(2)}/s achieved of ${keyedSize.rate}/s (seconds between ${rate.minPerSecond} and ${rate.maxPerSecond})`,
    );
    row(`rate limit ${keyedSize.rate}/s, 2 worker processes: achieved`, rate.achieved, "starts/s");
    row(`rate limit ${keyedSize.rate}/s: most starts in one second`, rate.maxPerSecond, "starts");
    row(`rate limit ${keyedSize.rate}/s: fewest starts in a counted second`, rate.minPerSecond, "starts");
    ratios[`rate achieved / limit (${driver})`] = rate.achieved / keyedSize.rate;
  };
  // Smoke runs check that the phase works, not its figures: both drivers at once, to be quick.
  if (flags.smoke) await Promise.all([oneDriver("postgres"), oneDriver("sqlite")]);
  else for (const driver of ["postgres", "sqlite"] as const) await oneDriver(driver);
  return ratios;
}

cleanupOnSignals();
try {
  await main();
} catch (err) {
  process.stderr.write(`bench jobs failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
