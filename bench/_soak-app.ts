/**
 * The app of bench/soak.ts, run with --expose-gc: a steady stream of jobs it enqueues itself and
 * works, a converger over the `soak_item` table (which the benchmark changes continuously) and an
 * inbox (which the benchmark drops files into). Every SOAK_SAMPLE_MS it collects garbage (when
 * `gc` is exposed) and sends its memory and counters to the benchmark over IPC.
 *
 * Env: TEND_DATABASE_URL, SOAK_INBOX, SOAK_OUT, SOAK_RATE (jobs/s), SOAK_SAMPLE_MS.
 */
import { readFile } from "node:fs/promises";
import { getHeapSpaceStatistics } from "node:v8";
import { createApp, every } from "../src/index.ts";

/** What the app sends the benchmark at every sample. */
export interface SoakSample {
  at: number;
  rss: number;
  heapUsed: number;
  /** Heap bytes used by compiled code (V8's code spaces): grows while the JIT warms up. */
  codeUsed: number;
  /** Off-heap memory of JS objects (Buffers, ArrayBuffers). */
  external: number;
  jobs: number;
  files: number;
  converges: number;
  gc: boolean;
}

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is required`);
  return value;
};
const rate = Number(env("SOAK_RATE"));
const tickMs = 100;
const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
const gc = (globalThis as { gc?: () => void }).gc;

const app = createApp({
  jobs: { concurrency: 20, prefetch: 100, pollInterval: 200 },
  shutdownTimeout: "10s",
});
let jobs = 0;
let n = 0;

app.job<{ n: number }>("soak.work", ({ payload }) => {
  jobs++;
  return { n: payload.n };
});

app.task(
  every(tickMs, async function enqueueSteadily() {
    await app.enqueueMany(
      Array.from({ length: perTick }, () => ({ kind: "soak.work", payload: { n: n++ } })),
    );
  }),
);

app.converger({
  name: "soak-items",
  every: "5s",
  wakeOn: [{ table: "soak_item", key: "id" }],
  find: async (ctx) =>
    (await ctx.sql("SELECT id FROM soak_item WHERE wanted <> actual")).map((r) => String(r["id"])),
  converge: async (id, ctx) => {
    const rows = await ctx.sql(
      "UPDATE soak_item SET actual = wanted WHERE id = $1 AND actual <> wanted RETURNING actual",
      [id],
    );
    return rows.length === 0 ? undefined : { changed: { actual: rows[0]!["actual"] } };
  },
});

const inbox = app.inbox({
  dir: env("SOAK_INBOX"),
  outDir: env("SOAK_OUT"),
  settle: 0,
  concurrency: 4,
  process: async (file, ctx) => {
    const data = await readFile(file.path, { signal: ctx.signal });
    await ctx.writeOutput(`${file.name}.json`, JSON.stringify({ name: file.name, bytes: data.length }));
  },
});

app.task(
  every(
    Number(env("SOAK_SAMPLE_MS")),
    async function sample() {
      gc?.();
      const memory = process.memoryUsage();
      const s: SoakSample = {
        at: Date.now(),
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        codeUsed: getHeapSpaceStatistics()
          .filter((space) => space.space_name.includes("code"))
          .reduce((sum, space) => sum + space.space_used_size, 0),
        external: memory.external,
        jobs,
        files: inbox.counters.done,
        converges: app.getConverger("soak-items")?.metrics().runs ?? 0,
        gc: gc !== undefined,
      };
      process.send?.(s);
    },
    { immediate: true },
  ),
);

await app.main();
