/**
 * A steady producer for the scenarios: enqueues `perTick` jobs of one kind every `everyMs` until
 * stopped, through the public API, and keeps the ids it got back (the jobs acknowledged as
 * enqueued) and the errors it saw.
 */
import type { App } from "../../src/index.ts";
import { waitFor } from "../../test/support/wait.ts";
import { readExecutions } from "./executions.ts";

export interface Enqueuer {
  /** Ids acknowledged by enqueue. */
  ids: Set<string>;
  /** Enqueue calls that failed, with the time they took and the error's code. */
  failures: Array<{ ms: number; code: string | undefined; message: string }>;
  /** Stops the loop and waits for its last call. */
  stop(): Promise<void>;
}

/** Starts enqueueing `kind` jobs through `app`. */
export function startEnqueuer(
  app: App,
  kind: string,
  options: { everyMs: number; perTick: number; payload?: () => unknown },
): Enqueuer {
  const ids = new Set<string>();
  const failures: Enqueuer["failures"] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      try {
        const items = Array.from({ length: options.perTick }, () => ({
          kind,
          payload: options.payload?.() ?? {},
        }));
        for (const r of await app.enqueueMany(items)) ids.add(r.id);
      } catch (err) {
        failures.push({
          ms: Date.now() - started,
          code: (err as { code?: string }).code,
          message: (err as Error).message,
        });
      }
      const wait = options.everyMs - (Date.now() - started);
      if (wait > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    ids,
    failures,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** Jobs still to run (available, running, scheduled, retryable) over every queue. */
export async function unfinishedJobs(app: App): Promise<number> {
  return (await app.jobs.stats()).reduce(
    (n, q) => n + q.available + q.running + q.scheduled + q.retryable,
    0,
  );
}

/** Waits until no job is left to run; false when that did not happen within `timeoutMs`. */
export async function waitUntilIdle(app: App, timeoutMs: number): Promise<boolean> {
  return waitFor(async () => (await unfinishedJobs(app)) === 0, {
    timeoutMs,
    intervalMs: 200,
    message: "every job finished",
  }).then(
    () => true,
    () => false,
  );
}

/**
 * Milliseconds from `since` until a job acknowledged by `enqueuer` after this call completed (its
 * execution recorded in `recordDir`); null when none did within `limitMs` + 25 s.
 */
export async function timeToNewCompletion(
  recordDir: string,
  enqueuer: Enqueuer,
  since: number,
  limitMs: number,
): Promise<number | null> {
  const before = new Set(enqueuer.ids);
  const at = await waitFor(
    async () => {
      for (const [id, e] of await readExecutions(recordDir)) {
        if (e.ends > 0 && enqueuer.ids.has(id) && !before.has(id)) return Date.now();
      }
      return null;
    },
    {
      timeoutMs: limitMs + 25_000,
      intervalMs: 50,
      message: "a job enqueued after the path came back completing",
    },
  ).catch(() => null);
  return at === null ? null : at - since;
}
