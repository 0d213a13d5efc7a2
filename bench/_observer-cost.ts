/**
 * The CPU cost of observing a job attempt, without a database: `runAttempt` (the worker's attempt
 * path) with writes that answer at once, run `--attempts` times (default 400,000) in batches of
 * 500, plain and with the app's observer (job metrics on a registry, the OpenTelemetry API with no
 * SDK, an onError hook), each also alone; medians of 5 alternating rounds after a warm-up.
 * `npm exec -- node bench/_observer-cost.ts [--attempts N]`.
 */
import { runAttempt, type AttemptDeps, type RunningJob } from "../src/jobs/attempt.ts";
import { createLogger } from "../src/log/index.ts";
import { createRegistry, ErrorReporter, JobMetrics, JobsWatch, tendTracer } from "../src/observe/index.ts";
import type { ClaimedJob } from "../src/store/index.ts";

const at = process.argv.indexOf("--attempts");
const N = at === -1 ? 400_000 : Number(process.argv[at + 1]);
const BATCH = 500;
const log = createLogger({ level: "silent", pretty: false });
const completed: ReadonlySet<string> = { has: () => true } as unknown as ReadonlySet<string>;

function depsWith(observer: JobsWatch | undefined): AttemptDeps {
  return {
    definition: {
      kind: "noop",
      queue: "default",
      maxAttempts: 3,
      maxLost: undefined,
      timeoutMs: null,
      priority: 0,
      delayFor: () => 1,
      validate: async (payload: unknown) => payload,
      handler: () => {},
    } as unknown as AttemptDeps["definition"],
    log,
    maxResultBytes: 1 << 20,
    heartbeat: async () => {},
    handlerDone: () => {},
    settled: () => {},
    writes: {
      complete: async () => completed,
      fail: async () => [],
      release: async () => [],
      cancel: async () => [],
      progress: async () => [],
      snooze: async () => [],
    },
    progressIntervalMs: 1_000,
    abortGraceMs: 2_000,
    onOutcome: () => {},
    observer,
  };
}

/** `off`, or the observer's parts: m (metrics), t (tracer, no SDK), e (onError). */
function observerOf(mode: string): JobsWatch | undefined {
  if (mode === "off") return undefined;
  const watch = new JobsWatch();
  if (mode.includes("m")) watch.metrics = new JobMetrics(createRegistry(), () => 0);
  if (mode.includes("t")) watch.tracer = tendTracer();
  if (mode.includes("e")) {
    const errors = new ErrorReporter(log);
    errors.add(() => {});
    watch.errors = errors;
  }
  return watch;
}

let seq = 0;
/** CPU µs per attempt. */
async function run(mode: string): Promise<number> {
  const deps = depsWith(observerOf(mode));
  const runAt = new Date();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i += BATCH) {
    const attempts: Promise<void>[] = [];
    for (let j = 0; j < BATCH; j++) {
      const id = String(++seq);
      const job: ClaimedJob = {
        id,
        kind: "noop",
        queue: "default",
        payload: { j },
        attempt: 1,
        maxAttempts: 3,
        leaseToken: "t",
        started: true,
        runAt,
        traceContext: null,
      } as ClaimedJob;
      const entry: RunningJob = {
        job,
        ref: { id, leaseToken: "t" },
        controller: null,
        abortReason: null,
        handlerReturned: false,
      } as RunningJob;
      attempts.push(runAttempt(entry, deps));
    }
    await Promise.all(attempts);
  }
  const used = process.cpuUsage(cpu0);
  return (used.user + used.system) / N;
}

const modes = ["off", "mte", "m", "t", "e"];
for (const mode of modes) await run(mode);
const results = new Map<string, number[]>();
for (let round = 0; round < 5; round++)
  for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
    const list = results.get(mode) ?? [];
    list.push(await run(mode));
    results.set(mode, list);
  }
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const off = median(results.get("off")!);
const names: Record<string, string> = {
  off: "off",
  mte: "on (metrics, no-op tracer, onError)",
  m: "metrics only",
  t: "no-op tracer only",
  e: "onError only",
};
for (const [mode, xs] of results) {
  const us = median(xs);
  const diff = us - off;
  const shown = mode === "off" ? "base" : `${diff >= 0 ? "+" : ""}${diff.toFixed(2)}`;
  console.log(`${names[mode]!.padEnd(38)} ${us.toFixed(2)} µs/attempt (${shown})`);
}
