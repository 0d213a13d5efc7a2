/**
 * One bench child process: opens one job system (env BENCH_CHILD: `{ module, url, options }`, the
 * module a file under bench/jobs/systems/) and does what the harness asks over IPC. It never loads
 * another system's code. Commands (each answered with a message carrying the same `id`):
 *
 * - `load {n, chunk, offset}`: enqueue n jobs in bulk calls of `chunk`; answers `{ms, callMs}`.
 * - `work`: start the worker; from then on sends `{type: "progress", count}` (handler calls so far)
 *   every 10 ms while it changes.
 * - `produce {count, gapMinMs, gapMaxMs}`: enqueue latency probes one at a time, a random gap
 *   between them; answers `{sent, callMs}` (send times on the shared monotonic clock, in ms).
 * - `starts`: answers `{starts}`: [index, handler start time] of every probe this worker ran.
 * - `watch {everyMs}`: reads the system's own "unfinished jobs" figure every `everyMs` until it
 *   is 0; answers `{at, polls, busyMs}` (busyMs: time spent in those reads).
 * - `counters`: answers `{counters}`, the worker's own counters (systems that keep them).
 * - `close`: stop and close; answers, then the process exits.
 *
 * Times are `process.hrtime` (CLOCK_MONOTONIC, the same clock in every process on the machine).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { nowMs } from "./clock.ts";
import type { BenchPayload, BenchSystem, OpenSystem, SystemOptions } from "./systems/system.ts";

interface ChildSpec {
  module: string;
  url: string;
  options: SystemOptions;
}

type Command =
  | { id: number; cmd: "load"; n: number; chunk: number; offset: number }
  | { id: number; cmd: "work" }
  | { id: number; cmd: "produce"; count: number; gapMinMs: number; gapMaxMs: number }
  | { id: number; cmd: "starts" }
  | { id: number; cmd: "watch"; everyMs: number }
  | { id: number; cmd: "counters" }
  | { id: number; cmd: "close" };

const send = (message: object): void => {
  process.send!(message);
};

const spec = JSON.parse(process.env["BENCH_CHILD"] ?? "null") as ChildSpec | null;
if (spec === null || process.send === undefined) {
  process.stderr.write("bench/jobs/child.ts runs only as a bench child (IPC and env BENCH_CHILD)\n");
  process.exit(2);
}

const { open } = (await import(`./systems/${spec.module}.ts`)) as { open: OpenSystem };
const system: BenchSystem = await open(spec.url, spec.options);
let handled = 0;
const starts: Array<[number, number]> = [];
let progressTimer: NodeJS.Timeout | undefined;

function onJob(payload: BenchPayload): void {
  handled++;
  if (payload.t === true) starts.push([payload.i, nowMs()]);
}

async function handle(command: Command): Promise<object> {
  switch (command.cmd) {
    case "load": {
      const callMs: number[] = [];
      const t0 = nowMs();
      for (let start = 0; start < command.n; start += command.chunk) {
        const size = Math.min(command.chunk, command.n - start);
        const indexes = Array.from({ length: size }, (_, k) => command.offset + start + k);
        const c0 = nowMs();
        await system.enqueueMany(indexes);
        callMs.push(nowMs() - c0);
      }
      return { ms: nowMs() - t0, callMs };
    }
    case "work": {
      await system.startWorker(onJob);
      let reported = -1;
      progressTimer = setInterval(() => {
        if (handled !== reported) {
          reported = handled;
          send({ type: "progress", count: handled });
        }
      }, 10);
      return {};
    }
    case "produce": {
      const sent: number[] = [];
      const callMs: number[] = [];
      for (let i = 0; i < command.count; i++) {
        const t = nowMs();
        await system.enqueueOne({ i, t: true });
        sent.push(t);
        callMs.push(nowMs() - t);
        await sleep(command.gapMinMs + Math.random() * (command.gapMaxMs - command.gapMinMs));
      }
      return { sent, callMs };
    }
    case "starts":
      return { starts };
    case "watch": {
      if (system.unfinished === undefined) throw new Error(`${spec!.module} has no unfinished-jobs figure`);
      let polls = 0;
      let busyMs = 0;
      for (;;) {
        polls++;
        const t = nowMs();
        const left = await system.unfinished();
        busyMs += nowMs() - t;
        if (left === 0) return { at: nowMs(), polls, busyMs };
        await sleep(command.everyMs);
      }
    }
    case "counters":
      return { counters: system.counters?.() ?? {} };
    case "close":
      clearInterval(progressTimer);
      await system.close();
      return {};
  }
}

process.on("message", (command: Command) => {
  handle(command).then(
    (reply) => {
      send({ type: "reply", id: command.id, ...reply });
      if (command.cmd === "close") process.disconnect();
    },
    (err: unknown) => {
      send({ type: "reply", id: command.id, error: (err as Error).stack ?? String(err) });
    },
  );
});
// The harness kills a child it no longer hears from; a child whose harness died exits.
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
