/**
 * Inbox benchmark: files per second and drop-to-done latency, side by side:
 * - "ticker" — the seed's design: every 5 s, list the folder and process each file in turn
 *   (read, write the output in place, move the input to done/), no claims, no fsync; for
 *   throughput also "ticker +fsync", the same loop writing each output as durably as tend does;
 * - "tend events" — the tend inbox with file events on (settle 0: producers rename files in);
 * - "tend rescan" — the tend inbox with events off, finding files by its periodic rescan only.
 * Every system does the same work per file (read it, write a small output, move it to done/).
 * Latency is measured from the rename of a file into the inbox to its arrival in done/ (seen by a
 * watch on done/). Usage: node bench/inbox.ts [--smoke] [--json]
 */
import { type FSWatcher, watch } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createInbox } from "../src/inbox/index.ts";
import { createLogger } from "../src/log/logger.ts";
import { median, parseFlags, quantile, type Row, report } from "./_support/report.ts";

const flags = parseFlags();
const THROUGHPUT_FILES = flags.smoke ? 200 : 10_000;
const LATENCY_FILES = flags.smoke ? 20 : 200;
const TICKER_SAMPLES = flags.smoke ? 5 : 20;
const TICKER_MS = flags.smoke ? 1000 : 5000;
const RESCAN_MS = flags.smoke ? 250 : 1000;
const DROP_GAP_MS = 10;
const CONCURRENCY = 8;

interface System {
  name: string;
  /** Starts processing `inbox`, moving finished inputs to the returned done folder. */
  start(root: string): Promise<{ inbox: string; done: string; stop: () => Promise<void> }>;
}

async function work(path: string): Promise<string> {
  const data = await readFile(path);
  return JSON.stringify({ bytes: data.length });
}

/** Writes `data` to `dir/name` durably: temporary file, fsync, rename, fsync of the folder. */
async function writeDurably(dir: string, name: string, data: string): Promise<void> {
  const temp = join(dir, `.${name}.tmp`);
  const fh = await open(temp, "w");
  await fh.writeFile(data);
  await fh.sync();
  await fh.close();
  await rename(temp, join(dir, name));
  const dh = await open(dir, "r");
  await dh.sync();
  await dh.close();
}

/** The seed's design: a ticker that lists the folder and processes each file in turn. */
function tickerSystem(durable: boolean): System {
  return {
    name: `ticker ${TICKER_MS / 1000}s${durable ? " +fsync" : " (seed)"}`,
    async start(root) {
      const inbox = join(root, "inbox");
      const done = join(root, "done");
      const out = join(root, "out");
      await Promise.all([inbox, done, out].map((d) => mkdir(d, { recursive: true })));
      const controller = new AbortController();
      const batch = async () => {
        for (const name of await readdir(inbox)) {
          if (name.startsWith(".")) continue;
          const summary = await work(join(inbox, name));
          if (durable) await writeDurably(out, `${name}.json`, summary);
          else await writeFile(join(out, `${name}.json`), summary);
          await rename(join(inbox, name), join(done, name));
        }
      };
      const loop = (async () => {
        await batch(); // files already present are handled at start; then the ticker
        while (!controller.signal.aborted) {
          try {
            await sleep(TICKER_MS, undefined, { signal: controller.signal });
          } catch {
            return;
          }
          await batch();
        }
      })();
      return {
        inbox,
        done,
        stop: async () => {
          controller.abort();
          await loop;
        },
      };
    },
  };
}

const ticker = tickerSystem(false);
const durableTicker = tickerSystem(true);

function tendSystem(name: string, events: boolean): System {
  return {
    name,
    async start(root) {
      const inbox = join(root, "inbox");
      const task = createInbox(
        {
          dir: inbox,
          outDir: join(root, "out"),
          settle: 0,
          watch: events,
          rescan: RESCAN_MS,
          concurrency: CONCURRENCY,
          process: async (file, ctx) => {
            await ctx.writeOutput(`${file.name}.json`, await work(file.path));
          },
        },
        { log: createLogger({ level: "silent" }) },
      );
      const controller = new AbortController();
      const running = task.run(controller.signal);
      await waitUntil(async () => (await readdir(join(inbox, ".processing")).catch(() => [])).length > 0);
      return {
        inbox,
        done: task.options.doneDir,
        stop: async () => {
          controller.abort();
          await running;
        },
      };
    },
  };
}

async function waitUntil(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await sleep(5);
}

/** Watches `done` and records when each name arrives. */
function arrivals(done: string): { times: Map<string, number>; watcher: FSWatcher } {
  const times = new Map<string, number>();
  const watcher = watch(done, (_event, name) => {
    if (typeof name === "string" && !times.has(name)) times.set(name, performance.now());
  });
  return { times, watcher };
}

async function dropFile(inbox: string, name: string): Promise<number> {
  const temp = join(inbox, `.${name}.tmp`);
  await writeFile(temp, `some,csv,data\n1,2,3\n${name}\n`);
  await rename(temp, join(inbox, name));
  return performance.now();
}

async function throughput(system: System): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), "tend-bench-inbox-"));
  try {
    const staging = join(root, "staging");
    await mkdir(staging);
    for (let i = 0; i < THROUGHPUT_FILES; i++)
      await writeFile(join(staging, `t${i}.csv`), `a,b\n${i},${i * 2}\n`);
    // Move the files in before the system starts: all of them are waiting at once.
    await mkdir(join(root, "inbox"));
    for (let i = 0; i < THROUGHPUT_FILES; i++)
      await rename(join(staging, `t${i}.csv`), join(root, "inbox", `t${i}.csv`));
    const started = performance.now();
    const running = await system.start(root);
    const { times, watcher } = arrivals(running.done);
    await waitUntil(
      async () => times.size >= THROUGHPUT_FILES || (await readdir(running.done)).length >= THROUGHPUT_FILES,
    );
    const elapsed = performance.now() - started;
    watcher.close();
    await running.stop();
    return THROUGHPUT_FILES / (elapsed / 1000);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function latency(system: System, samples: number): Promise<number[]> {
  const root = await mkdtemp(join(tmpdir(), "tend-bench-inbox-"));
  try {
    const running = await system.start(root);
    const { times, watcher } = arrivals(running.done);
    const sent = new Map<string, number>();
    for (let i = 0; i < samples; i++) {
      const name = `l${i}.csv`;
      sent.set(name, await dropFile(running.inbox, name));
      await sleep(DROP_GAP_MS);
    }
    await waitUntil(() => [...sent.keys()].every((n) => times.has(n)));
    watcher.close();
    await running.stop();
    return [...sent].map(([name, at]) => (times.get(name) as number) - at);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const events = tendSystem("tend events", true);
const rescan = tendSystem(`tend rescan ${RESCAN_MS}ms`, false);
const rows: Row[] = [];
const fps: Record<string, number> = {};
const lat: Record<string, number[]> = {};
for (const system of [ticker, durableTicker, events, rescan]) {
  fps[system.name] = await throughput(system);
  rows.push({
    system: system.name,
    metric: `throughput, ${THROUGHPUT_FILES} files`,
    value: fps[system.name] as number,
    unit: "files/s",
  });
}
for (const [system, samples] of [
  [ticker, TICKER_SAMPLES],
  [events, LATENCY_FILES],
  [rescan, LATENCY_FILES],
] as const) {
  const values = await latency(system, samples);
  lat[system.name] = values;
  rows.push({ system: system.name, metric: "latency p50", value: median(values), unit: "ms" });
  rows.push({ system: system.name, metric: "latency p99", value: quantile(values, 0.99), unit: "ms" });
}
const p50 = (s: System) => median(lat[s.name] ?? []);
report(
  "inbox",
  rows,
  {
    "tend events / ticker files/s": (fps[events.name] ?? 0) / (fps[ticker.name] ?? 1),
    "tend rescan / ticker files/s": (fps[rescan.name] ?? 0) / (fps[ticker.name] ?? 1),
    "tend events / ticker +fsync files/s": (fps[events.name] ?? 0) / (fps[durableTicker.name] ?? 1),
    "ticker / tend events latency p50": p50(ticker) / p50(events),
    "ticker / tend rescan latency p50": p50(ticker) / p50(rescan),
    "tend events p50 / 50 ms target": p50(events) / 50,
    "tend rescan p50 / rescan interval": p50(rescan) / RESCAN_MS,
  },
  flags,
  [
    `latency: ${LATENCY_FILES} files per tend system, dropped by rename one every ${DROP_GAP_MS} ms; the ticker's latency uses only ${TICKER_SAMPLES} samples to keep the run short`,
    `tend runs with concurrency ${CONCURRENCY} and settle 0, and makes every output durable (fsync of the file and its folder); the seed's ticker writes outputs in place without fsync, "ticker +fsync" writes them as durably as tend does (throughput only)`,
    "throughput counts from the start of each system with every file already waiting",
  ],
);
