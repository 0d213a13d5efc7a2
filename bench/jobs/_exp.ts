import { TEND_SQLITE_FULL } from "./catalogue.ts";
import { cleanupAll } from "./cleanup.ts";
import { processRun } from "./runs.ts";
const configs: Array<[string, Record<string, number>]> = [
  ["c50 p0", { concurrency: 50 }],
  ["c10 p0", { concurrency: 10 }],
  ["c50 p500", { concurrency: 50, prefetch: 500 }],
];
for (const [label, opts] of configs) {
  for (const [k, stats] of [
    [0, undefined],
    [1, 20],
    [1, undefined],
    [3, 20],
  ] as const) {
    const spec = { ...TEND_SQLITE_FULL, options: () => opts };
    const r = await processRun({
      spec,
      jobs: 20000,
      chunk: 5000,
      processes: k,
      analyze: false,
      ...(stats ? { statsEveryMs: stats } : {}),
      timeoutMs: 300000,
    });
    console.log(
      label,
      `procs=${k} stats=${stats ?? "-"}`,
      r.processRate.toFixed(0),
      "jobs/s",
      r.nodeCpuUs.toFixed(0),
      "µs",
    );
  }
}
await cleanupAll();
