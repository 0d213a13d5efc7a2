/**
 * Summaries of V8 CPU profiles (`node --cpu-prof`): self time per function and per part of the
 * program (tend, the pg driver, Node internals, garbage collection, idle), summed over profiles.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) per function key and per category, over every given profile file. */
export interface ProfileSummary {
  totalMs: number;
  byFunction: Map<string, number>;
  byCategory: Map<string, number>;
}

/** Pure: the part of the program a frame belongs to. */
export function categoryOf(functionName: string, url: string): string {
  if (functionName === "(idle)") return "idle";
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(program)") return "V8/native (program)";
  if (url.includes("/node_modules/pg") || url.includes("/node_modules/postgres-")) return "pg driver";
  if (url.includes("/node_modules/graphile-worker/")) return "graphile-worker";
  if (url.includes("/node_modules/pg-boss/")) return "pg-boss";
  if (url.includes("/node_modules/pino")) return "pino";
  if (url.includes("/node_modules/")) return "other packages";
  if (url.includes("/src/")) return "tend";
  if (url.includes("/bench/")) return "bench child";
  if (url.startsWith("node:") || url === "") return "Node internals / builtins";
  return "other";
}

function shortUrl(url: string): string {
  const at = url.search(/\/(src|node_modules|bench)\//);
  return at === -1 ? url : url.slice(at + 1);
}

/**
 * Sums self time over `files`, counting only samples taken within `window` (ms on the bench's
 * clock, bench/jobs/clock.ts: V8 stamps samples in µs of the same CLOCK_MONOTONIC).
 */
export function summariseProfiles(
  files: readonly string[],
  window: { fromMs: number; toMs: number } = { fromMs: -Infinity, toMs: Infinity },
): ProfileSummary {
  const byFunction = new Map<string, number>();
  const byCategory = new Map<string, number>();
  let totalMs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    let atUs = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      const node = nodes.get(profile.samples[i]!)!;
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      atUs += profile.timeDeltas[i] ?? 0;
      if (atUs / 1000 < window.fromMs || atUs / 1000 > window.toMs) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      const name = functionName === "" ? "(anonymous)" : functionName;
      const key = url === "" ? name : `${name} ${shortUrl(url)}:${lineNumber + 1}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
      const category = categoryOf(functionName, url);
      byCategory.set(category, (byCategory.get(category) ?? 0) + ms);
      totalMs += ms;
    }
  }
  return { totalMs, byFunction, byCategory };
}

/** The `n` largest entries of a map, largest first. */
export function top(map: ReadonlyMap<string, number>, n: number): Array<[string, number]> {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}
