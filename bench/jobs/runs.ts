/**
 * One measured run of one system, every part in its own fresh child process: a producer process
 * enqueues (timed), the harness ANALYZEs and CHECKPOINTs (PostgreSQL), then k fresh worker
 * processes start, and the run is timed from the "work" command until the database records every
 * job done. Also the latency run: a worker process and a producer process enqueuing one probe job
 * at a time.
 */
import type { SystemSpec } from "./catalogue.ts";
import { nowMs } from "./clock.ts";
import { BackendCpu, cpuMsOfAll, pinToCpu } from "./cpu.ts";
import { analyze, type BenchDatabase, benchDatabase, untilDone } from "./databases.ts";
import { checkpoint } from "./pg-admin.ts";
import { allHandled, BenchChild } from "./procs.ts";

export interface ProcessPlan {
  spec: SystemSpec;
  jobs: number;
  /** Jobs per bulk enqueue call. */
  chunk: number;
  /** Worker processes; 0 runs the worker in the producer process, after its enqueue. */
  processes: number;
  /** ANALYZE the job table after the load (PostgreSQL; only where the spec names its table). */
  analyze: boolean;
  /** The producer stays and reads the system's "unfinished jobs" figure every this many ms; the run ends when it reads 0. */
  statsEveryMs?: number;
  /** Extra Node flags for the worker processes (e.g. --cpu-prof). */
  workerExecArgv?: string[];
  /**
   * Pin the worker processes to CPU `workers` and the run's PostgreSQL backends (those serving the
   * run's database, pinned as they appear) to CPU `backends`, with taskset(1), from just before
   * the processing starts.
   */
  pin?: { workers: number; backends: number };
  /**
   * Jobs enqueued before the timed ones and handled before the clock starts, so that every worker
   * process (and its database connections) is warmed up: the run then measures steady state, as
   * long-lived processes run, instead of each fresh process's compiling and caching. Not counted
   * in the rate or the CPU per job; 0 or absent: none.
   */
  warmupJobs?: number;
  /** Called just before the workers start working, and once the run is done (diagnosis). */
  hooks?: RunHooks;
  timeoutMs: number;
}

/** What a run's hooks see: the database, and the worker processes' pids. */
export interface RunHooks {
  beforeWork?(db: BenchDatabase, workerPids: readonly number[]): Promise<void>;
  afterDone?(db: BenchDatabase, workerPids: readonly number[]): Promise<void>;
  /** After a successful run's processes exited, before the database is dropped. */
  afterClose?(db: BenchDatabase): Promise<void>;
}

export interface ProcessResult {
  enqueueRate: number;
  processRate: number;
  /** CPU time of the worker process(es) per job, in µs. */
  nodeCpuUs: number;
  /** CPU time of the database's PostgreSQL backends per job, in µs (null on SQLite). */
  pgCpuUs: number | null;
  /** Length of the processing run. */
  seconds: number;
  /** The enqueuer's reads of the unfinished-jobs figure (runs with `statsEveryMs`). */
  statsReads?: { count: number; busyMs: number };
  /** The workers' own counters, summed (systems that keep them). */
  counters: Record<string, number>;
}

interface WatchReply {
  at: number;
  polls: number;
  busyMs: number;
}

export async function processRun(plan: ProcessPlan): Promise<ProcessResult> {
  const { spec, jobs: n } = plan;
  const k = plan.processes;
  const warmup = plan.warmupJobs ?? 0;
  const total = warmup + n;
  const db = await benchDatabase(spec.driver);
  const url = db.url + (spec.urlSuffix ?? "");
  const keepProducer = k === 0 || plan.statsEveryMs !== undefined;
  let result: ProcessResult | null = null;
  try {
    const producer = await BenchChild.start(`${spec.name} producer`, {
      module: spec.module,
      url,
      options: spec.options(Math.max(k, 1), 0),
    });
    let workers: BenchChild[] = [];
    try {
      const load = await producer.request<{ ms: number }>(
        { cmd: "load", n: total, chunk: plan.chunk, offset: 0 },
        plan.timeoutMs,
      );
      if (!keepProducer) await producer.close();
      if (plan.analyze && spec.analyzeTable !== undefined) await analyze(db, spec.analyzeTable);
      if (spec.driver === "postgres") await checkpoint();
      workers =
        k === 0
          ? [producer]
          : await Promise.all(
              Array.from({ length: k }, (_, i) =>
                BenchChild.start(
                  `${spec.name} worker ${i + 1}/${k}`,
                  { module: spec.module, url, options: spec.options(k, i) },
                  plan.workerExecArgv === undefined ? {} : { execArgv: plan.workerExecArgv },
                ),
              ),
            );
      const pids = workers.map((w) => w.pid);
      await plan.hooks?.beforeWork?.(db, pids);
      const pin = plan.pin;
      if (pin !== undefined) for (const pid of pids) pinOrThrow(pid, pin.workers);
      const backends =
        spec.driver === "postgres"
          ? new BackendCpu(
              db.name,
              200,
              pin === undefined ? undefined : (pid) => void pinToCpu(pid, pin.backends),
            )
          : null;
      let cpu0 = cpuMsOfAll(pids);
      if (warmup === 0) backends?.start();
      let t0 = nowMs();
      // Set by watchStats (typed by hand: the compiler does not see the closure assign it).
      let watch = null as Promise<WatchReply> | null;
      const watchStats = (): void => {
        if (plan.statsEveryMs !== undefined)
          watch = producer.request<WatchReply>({ cmd: "watch", everyMs: plan.statsEveryMs }, plan.timeoutMs);
      };
      if (warmup === 0) watchStats();
      await Promise.all(workers.map((w) => w.request({ cmd: "work" })));
      if (warmup > 0) {
        // The clock starts once the warm-up jobs (enqueued first, so handled first) are handled.
        await allHandled(workers, warmup, plan.timeoutMs);
        cpu0 = cpuMsOfAll(pids);
        backends?.start();
        t0 = nowMs();
        watchStats();
      }
      await allHandled(workers, total, plan.timeoutMs);
      await untilDone(db, spec.done, total, plan.timeoutMs);
      const watched = watch === null ? null : await watch;
      const t1 = Math.max(nowMs(), watched?.at ?? 0);
      const nodeCpuMs = cpuMsOfAll(pids) - cpu0;
      const pgCpuMs = backends?.stop() ?? null;
      await plan.hooks?.afterDone?.(db, pids);
      const counters: Record<string, number> = {};
      for (const w of workers) {
        const reply = await w.request<{ counters: Record<string, number> }>({ cmd: "counters" });
        for (const [k, v] of Object.entries(reply.counters)) counters[k] = (counters[k] ?? 0) + v;
      }
      result = {
        enqueueRate: (total / load.ms) * 1000,
        processRate: (n / (t1 - t0)) * 1000,
        nodeCpuUs: (nodeCpuMs * 1000) / n,
        pgCpuUs: pgCpuMs === null ? null : (pgCpuMs * 1000) / n,
        seconds: (t1 - t0) / 1000,
        counters,
        ...(watched === null ? {} : { statsReads: { count: watched.polls, busyMs: watched.busyMs } }),
      };
    } finally {
      await Promise.all(workers.filter((w) => w !== producer).map((w) => w.close()));
      await producer.close();
    }
    await plan.hooks?.afterClose?.(db);
    return result;
  } finally {
    await db.drop();
  }
}

function pinOrThrow(pid: number, cpu: number): void {
  if (!pinToCpu(pid, cpu)) throw new Error(`taskset could not pin process ${pid} to CPU ${cpu}`);
}

export interface LatencyResult {
  /** From before the enqueue call (producer) to the handler's start (worker), ms per probe. */
  toStartMs: number[];
  /** Duration of the single-job enqueue call, ms per probe. */
  enqueueCallMs: number[];
}

/**
 * Probe jobs enqueued one at a time with 5-10 ms gaps (about 130 a second: an idle worker each
 * time) by a producer process, to a listening worker process (or, `inProcess`, by the worker's own
 * process). The first `warmup` probes are not counted.
 */
export async function latencyRun(
  spec: SystemSpec,
  samples: number,
  warmup: number,
  inProcess: boolean,
  timeoutMs: number,
): Promise<LatencyResult> {
  const db = await benchDatabase(spec.driver);
  const url = db.url + (spec.urlSuffix ?? "");
  const options = spec.options(1, 0);
  const children: BenchChild[] = [];
  try {
    const worker = await BenchChild.start(`${spec.name} latency worker`, {
      module: spec.module,
      url,
      options,
    });
    children.push(worker);
    await worker.request({ cmd: "work" });
    const producer = inProcess
      ? worker
      : await BenchChild.start(`${spec.name} latency producer`, { module: spec.module, url, options });
    if (producer !== worker) children.push(producer);
    const total = warmup + samples;
    const produced = await producer.request<{ sent: number[]; callMs: number[] }>(
      { cmd: "produce", count: total, gapMinMs: 5, gapMaxMs: 10 },
      timeoutMs,
    );
    await allHandled([worker], total, timeoutMs);
    const { starts } = await worker.request<{ starts: Array<[number, number]> }>({ cmd: "starts" });
    const startOf = new Map(starts);
    const toStartMs: number[] = [];
    for (let i = warmup; i < total; i++) toStartMs.push(startOf.get(i)! - produced.sent[i]!);
    return { toStartMs, enqueueCallMs: produced.callMs.slice(warmup) };
  } finally {
    await Promise.all(children.map((c) => c.close()));
    await db.drop();
  }
}
