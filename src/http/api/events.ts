import type { IncomingMessage, ServerResponse } from "node:http";
import type { QueueStats } from "../../store/index.ts";
import type { Router } from "../router.ts";
import { jobView } from "./job-view.ts";
import { queryOf, sortedQueues } from "./query.ts";
import { pathJobId } from "./read-routes.ts";
import { api } from "./respond.ts";
import type { AdminSources } from "./sources.ts";

/** A comment line every this many ms keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Pure: one Server-Sent Events message (`event:` and `data:` lines; the data is JSON on one line).
 *
 * @example
 * ```ts
 * sseMessage("queues", { queues: [] }); // "event: queues\ndata: {\"queues\":[]}\n\n"
 * ```
 */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * One reading of the queue statistics shared by every open stream: a reading younger than half
 * the interval is reused, and concurrent readers share the one in flight, so that ten open tabs
 * cost one query per interval.
 */
class SharedStats {
  #at = 0;
  #value: Promise<QueueStats[]> | null = null;
  readonly #s: AdminSources;
  readonly #maxAgeMs: number;
  constructor(s: AdminSources, maxAgeMs: number) {
    this.#s = s;
    this.#maxAgeMs = maxAgeMs;
  }
  read(): Promise<QueueStats[]> {
    const now = performance.now();
    if (this.#value === null || now - this.#at > this.#maxAgeMs) {
      this.#at = now;
      this.#value = this.#s.store.jobs.stats().then(sortedQueues);
      this.#value.catch(() => {
        this.#value = null;
      });
    }
    return this.#value;
  }
}

/**
 * `GET /api/events[?job=ID]`: a Server-Sent Events stream. Every interval (1 s by default) it
 * sends `queues` (`{ queues }`, as `/api/queues`) when the counts changed; with `job`, it sends
 * `job` instead (`{ job }`, as `/api/jobs/:id`, `null` once deleted) when that job changed. The dashboard's
 * pages update through it without reloading. The stream ends when the client goes away or the
 * server closes. `HEAD /api/events` answers the stream's headers (200, `text/event-stream`) and
 * ends at once: it opens no stream and reads nothing.
 *
 * @example
 * ```ts
 * addEventRoutes(router, sources);
 * // browser: new EventSource("/api/events?job=42").addEventListener("job", (e) => ...)
 * ```
 */
export function addEventRoutes(router: Router, s: AdminSources): void {
  const intervalMs = s.eventIntervalMs ?? 1000;
  const stats = new SharedStats(s, intervalMs / 2);
  router.get(
    "/api/events",
    api(async (req: IncomingMessage, res: ServerResponse) => {
      const q = queryOf(req.url);
      const rawJob = q.get("job");
      const jobId = rawJob === null || rawJob === "" ? null : pathJobId(rawJob);
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      });
      // HEAD: the stream's headers, then the end. A HEAD answer has no body, so the loop below
      // would write nothing and hold the connection (and read the store) until the client left.
      if (req.method === "HEAD") return void res.end();
      res.write(`retry: ${Math.max(1000, intervalMs)}\n\n`);
      const ended = new AbortController();
      const end = () => ended.abort();
      res.on("close", end);
      router.closing.addEventListener("abort", end, { once: true });
      if (router.closing.aborted) end();
      let lastQueues = "";
      let lastJob = "";
      let lastWrite = Date.now();
      const send = (text: string) => {
        res.write(text);
        lastWrite = Date.now();
      };
      try {
        while (!ended.signal.aborted) {
          if (jobId === null) {
            const message = sseMessage("queues", { queues: await stats.read() });
            if (message !== lastQueues) {
              lastQueues = message;
              send(message);
            }
          } else {
            const job = await s.store.jobs.get(jobId);
            const message = sseMessage("job", { job: job === null ? null : jobView(job, s.hidePayloads) });
            if (message !== lastJob) {
              lastJob = message;
              send(message);
            }
          }
          if (Date.now() - lastWrite >= KEEPALIVE_MS) send(": keep-alive\n\n");
          await pause(intervalMs, ended.signal);
        }
      } finally {
        router.closing.removeEventListener("abort", end);
        res.off("close", end);
        if (!res.writableEnded) res.end();
      }
    }),
  );
}
