/**
 * Reads the execution records job handlers write (`S <id> <attempt>` when a handler starts,
 * `E <id> <attempt>` when it returns; one file per process, see fixtures/job-worker.ts) and
 * checks them against the job rows, which are read through the public API (`app.jobs.list`).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { App, JobRecord } from "../../src/index.ts";
import { readRecords } from "./records.ts";

/** What the records say about one job. */
export interface Executions {
  /** Handler starts (every attempt that reached the handler, finished or not). */
  starts: number;
  /** Handler returns. */
  ends: number;
  /** The attempt numbers that reached the handler. */
  startedAttempts: Set<number>;
}

/** Reads every record file in `dir`: job id to its executions. */
export async function readExecutions(dir: string): Promise<Map<string, Executions>> {
  const byId = new Map<string, Executions>();
  for (const { tag, a: id, b: attempt } of await readRecords(dir)) {
    if (tag !== "S" && tag !== "E") continue;
    let e = byId.get(id);
    if (e === undefined) {
      e = { starts: 0, ends: 0, startedAttempts: new Set() };
      byId.set(id, e);
    }
    if (tag === "S") {
      e.starts++;
      e.startedAttempts.add(Number(attempt));
    } else e.ends++;
  }
  return byId;
}

/** True once the worker process `pid` wrote its ready record into `dir`. */
export async function workerReady(dir: string, pid: number): Promise<boolean> {
  try {
    return (await readFile(join(dir, `${pid}.log`), "utf8")).includes(`R ${pid} 0\n`);
  } catch {
    return false;
  }
}

/** Every job of the store, through `app.jobs.list` pages of 10,000 (newest first). */
export async function readAllJobs(app: App): Promise<JobRecord[]> {
  const all: JobRecord[] = [];
  let beforeId: string | undefined;
  for (;;) {
    const page = await app.jobs.list({ limit: 10_000, ...(beforeId === undefined ? {} : { beforeId }) });
    all.push(...page);
    if (page.length < 10_000) return all;
    beforeId = page.at(-1)!.id;
  }
}

/** The counts a job chaos verdict reports. */
export interface JobAudit {
  jobs: number;
  completed: number;
  /** Jobs enqueued (acknowledged) that are missing, or not completed (and not legitimately discarded), or completed without a finished execution. */
  lost: number;
  /** Jobs still available, running, scheduled or retryable at the end. */
  stuck: number;
  /** Jobs discarded although fewer of their attempts reached the handler than maxAttempts. */
  discardedEarly: number;
  /** Completed jobs whose handler never recorded a return. */
  completedUnrecorded: number;
  /** Handler starts beyond the first, summed over jobs. */
  duplicateStarts: number;
  /** Handler returns beyond the first, summed over jobs. */
  duplicateEnds: number;
  /** Attempts counted on a job that never reached its handler (claimed ahead, then rescued). */
  attemptsWithoutStart: number;
  /** The highest attempt count seen on a job. */
  maxAttempt: number;
  /** Job states at the end, counted. */
  states: Record<string, number>;
  /** A few example ids per problem, for the notes. */
  examples: string[];
}

/**
 * Compares the job rows with the execution records. `expectedIds`: the ids acknowledged by
 * enqueue; `kind`: only jobs of this kind count.
 */
export function auditJobs(
  jobs: readonly JobRecord[],
  executions: ReadonlyMap<string, Executions>,
  expectedIds: ReadonlySet<string>,
  kind: string,
): JobAudit {
  const audit: JobAudit = {
    jobs: 0,
    completed: 0,
    lost: 0,
    stuck: 0,
    discardedEarly: 0,
    completedUnrecorded: 0,
    duplicateStarts: 0,
    duplicateEnds: 0,
    attemptsWithoutStart: 0,
    maxAttempt: 0,
    states: {},
    examples: [],
  };
  const example = (what: string, job: JobRecord) => {
    if (audit.examples.length < 8) {
      const last = job.errors.at(-1);
      audit.examples.push(
        `${what}: job ${job.id} ${job.state} attempt ${job.attempt}/${job.maxAttempts}` +
          (last === undefined ? "" : ` last error ${last.code ?? "-"} "${last.message.slice(0, 80)}"`),
      );
    }
  };
  const seen = new Set<string>();
  for (const job of jobs) {
    if (job.kind !== kind) continue;
    seen.add(job.id);
    audit.jobs++;
    audit.states[job.state] = (audit.states[job.state] ?? 0) + 1;
    audit.maxAttempt = Math.max(audit.maxAttempt, job.attempt);
    const e = executions.get(job.id) ?? { starts: 0, ends: 0, startedAttempts: new Set<number>() };
    audit.duplicateStarts += Math.max(0, e.starts - 1);
    audit.duplicateEnds += Math.max(0, e.ends - 1);
    const unstarted = Math.max(0, job.attempt - e.startedAttempts.size);
    audit.attemptsWithoutStart += unstarted;
    if (job.state === "completed") {
      audit.completed++;
      if (e.ends === 0) {
        audit.completedUnrecorded++;
        audit.lost++;
        example("completed without a recorded execution", job);
      }
    } else if (job.state === "discarded") {
      // Handlers here never fail: a discard is fair only when every attempt reached the handler.
      if (e.startedAttempts.size < job.maxAttempts) {
        audit.discardedEarly++;
        audit.lost++;
        example(`discarded after ${e.startedAttempts.size} started attempt(s)`, job);
      }
    } else {
      audit.stuck++;
      audit.lost++;
      example("not finished", job);
    }
  }
  for (const id of expectedIds) {
    if (!seen.has(id)) {
      audit.lost++;
      if (audit.examples.length < 8)
        audit.examples.push(`missing: job ${id} was acknowledged but has no row`);
    }
  }
  return audit;
}

/** {@link auditJobs} over every job of `app` and the records in `recordDir`. */
export async function auditRun(
  app: App,
  recordDir: string,
  expectedIds: ReadonlySet<string>,
  kind: string,
): Promise<JobAudit> {
  return auditJobs(await readAllJobs(app), await readExecutions(recordDir), expectedIds, kind);
}

/** How many jobs recorded a finished execution in `recordDir`. */
export async function countCompleted(recordDir: string): Promise<number> {
  let n = 0;
  for (const e of (await readExecutions(recordDir)).values()) if (e.ends > 0) n++;
  return n;
}
