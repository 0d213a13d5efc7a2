/**
 * The worker program of bench/supervise.ts: a tend app with one CPU-bound job kind, `spin`
 * { ms }, that keeps the CPU busy for `ms` milliseconds (a short job).
 */
import { createApp } from "../src/app.ts";

const app = createApp({ jobs: { concurrency: 4, pollInterval: 200 } });

app.job<{ ms: number }>("spin", ({ payload }) => {
  const until = performance.now() + payload.ms;
  while (performance.now() < until) {
    // busy: a CPU-bound short job
  }
  return null;
});

await app.main();
