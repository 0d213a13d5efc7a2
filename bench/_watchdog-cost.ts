/**
 * Measures the orphan watchdog of bench/supervise.ts in a fresh process: the time until its thread
 * runs, the resident memory it adds (after a settle) and the CPU it adds while the process idles
 * (compared with the same process before the watchdog), sent to the parent over IPC.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type OrphanWatchdog, startOrphanWatchdog } from "../src/supervise/orphan-watchdog.ts";

const WINDOW_MS = 2_000;

/** CPU time of this process (every thread) per second of wall time over one window. */
async function idleCpuMsPerSec(): Promise<number> {
  const start = process.cpuUsage();
  await sleep(WINDOW_MS);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1_000 / (WINDOW_MS / 1_000);
}

let dog: OrphanWatchdog | undefined;
// A 500 ms timer as in a worker, whose parent check beats the watchdog; it also keeps this
// process alive (the watchdog thread is unref'd).
const timer = setInterval(() => dog?.beat(), 500);
await sleep(300);
const baselineCpu = await idleCpuMsPerSec();
const before = process.memoryUsage().rss;
const t0 = performance.now();
dog = startOrphanWatchdog({ masterPid: process.ppid, frozenMs: 1_000, graceMs: 2_000 });
await dog.online;
const startMs = performance.now() - t0;
// Let the thread's start-up work (compilation, a first GC) pass before measuring the idle cost.
await sleep(1_000);
const withCpu = await idleCpuMsPerSec();
const rssMb = (process.memoryUsage().rss - before) / 1e6;
process.send?.({ startMs, rssMb, cpuMsPerSec: withCpu - baselineCpu });
await dog.stop();
clearInterval(timer);
process.disconnect();
