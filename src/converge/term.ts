import { setTimeout as sleep } from "node:timers/promises";
import { isTendError } from "../errors/index.ts";
import { linkSignals } from "../lifecycle/index.ts";
import { type Fence, SWEEP_REQUEST_TABLE, type Wake, type WakeListener } from "../store/index.ts";
import { type ConvergerEnv, findContext, type KeyResult, runKey } from "./execute.ts";
import { keyBackoffMs } from "./backoff.ts";
import { KeyQueue, type TakenKey } from "./key-queue.ts";
import { type InvalidFound, keyProblem, normalizeFound } from "./keys.ts";
import { PARKED_CHANNEL } from "./parked.ts";
import { keepPruned } from "./retention.ts";
import { findTimeout } from "./timeout.ts";

/** How a wake-up of one table is handled: converge the key, or sweep. */
export type WakeRoutes = ReadonlyMap<string, "key" | "sweep">;

/**
 * The route key of a wake: `table|column`.
 *
 * @example
 * ```ts
 * wakeRoute("public.account", "id"); // "public.account|id"
 * ```
 */
export const wakeRoute = (table: string, column: string): string => `${table}|${column}`;

/** Options of one leadership term. */
export interface TermOptions {
  env: ConvergerEnv;
  fence: Fence | null;
  /** Aborts when the term ends (shutdown or lease lost). */
  signal: AbortSignal;
  routes: WakeRoutes;
  /** Called when a recorded write was fenced out: the lease is gone. */
  onFencedOut: () => void;
  /** Called with the error of the first sweep when `find` returned no iterable at all (a start-up error). */
  onInvalidKeys: (err: unknown) => void;
  /** Called for an item a sweep's `find` returned that is not a valid key: it is skipped. */
  onInvalidKey?: (item: InvalidFound) => void;
  /** Called after every key run (tests, testing helpers). */
  onResult?: (key: string, result: KeyResult) => void;
  /** Called with the error of a sweep whose `find` failed (threw, or ran past its timeout). */
  onFindError?: (err: unknown) => void;
  /** Called for a key a sweep found that is parked (a terminal failure, unchanged since): it does not run. */
  onParked?: (key: string) => void;
  /** Told of the term's key queue when it starts and of null when it ends (for `backingOff`). */
  onQueue?: (queue: KeyQueue | null) => void;
}

/**
 * One leadership term of a converger: an immediate sweep, a sweep every `every` and on wake-ups
 * of sweep tables, woken keys converged directly, at most `concurrency` keys at once, each key
 * scheduled by a {@link KeyQueue}. Resolves when `signal` aborts and every key run has ended.
 *
 * @example
 * ```ts
 * await runTerm({ env, fence, signal: term.signal, routes, onFencedOut: () => term.abort(), onInvalidKeys: fail });
 * ```
 */
export async function runTerm(options: TermOptions): Promise<void> {
  const { env, fence, signal, routes } = options;
  const { def, metrics, log } = env;
  const queue = new KeyQueue();
  options.onQueue?.(queue);
  const running = new Set<Promise<void>>();
  let kick: () => void = () => {};
  let kicked = false;
  const wake = () => {
    kicked = true;
    kick();
  };
  let sweepWanted = true;
  let sweeping = false;
  let sweepRun: Promise<void> = Promise.resolve();
  let nextSweepAt = Date.now();
  let firstSweep = true;

  for (const t of await env.store.listTerminal(def.name)) queue.markTerminal(t.key, t.version, t.message);

  // Parked keys an operator cleared (tend converge keys clear) run again at once: re-read which
  // are still parked when told, at most once a second (on SQLite any commit elsewhere tells). A
  // notice inside that second, or during a re-read, is not dropped: one re-read follows it.
  let resyncing = false;
  let resyncAgain = false;
  let resyncTimer: NodeJS.Timeout | null = null;
  let lastResync = 0;
  const resyncParked = async (): Promise<void> => {
    if (signal.aborted || queue.parkedKeys().length === 0) return;
    if (resyncing) {
      resyncAgain = true;
      return;
    }
    const wait = lastResync + 1_000 - Date.now();
    if (wait > 0) {
      resyncTimer ??= setTimeout(() => {
        resyncTimer = null;
        void resyncParked();
      }, wait);
      resyncTimer.unref();
      return;
    }
    resyncing = true;
    lastResync = Date.now();
    try {
      const still = new Set((await env.store.listTerminal(def.name)).map((t) => t.key));
      for (const key of queue.parkedKeys()) {
        if (still.has(key) || !queue.unpark(key)) continue;
        log.info({ key }, "a parked key was cleared; running it again");
        queue.offer(key, null, "wake", Date.now());
        wake();
      }
    } catch (err) {
      log.warn({ err }, "could not re-read the parked keys; they are re-read when the converger next leads");
    } finally {
      resyncing = false;
      if (resyncAgain) {
        resyncAgain = false;
        void resyncParked();
      }
    }
  };

  const offer = (key: string, version: string | null, cause: "sweep" | "wake", origin?: unknown) => {
    const outcome = queue.offer(key, version, cause, Date.now(), origin);
    if (outcome === "terminal") options.onParked?.(key);
    if (outcome === "changed") {
      env.store
        .clearTerminal(def.name, key)
        .catch((err: unknown) => log.warn({ err, key }, "could not clear a terminal key"));
    }
  };

  // A woken key that cannot be a key (too long, U+0000, a lone surrogate: see keyProblem) is not
  // run: a sweep is, as PostgreSQL's trigger asks for one when the key cannot be sent. The sweep
  // reports the key as invalid if find returns it.
  const wakeKey = (key: string | null): string | null => {
    if (key === null) return null;
    const problem = keyProblem(key);
    if (problem === null) return key;
    log.warn(
      { key: key.slice(0, 100), length: key.length, reason: problem },
      "a wake-up named a key that cannot be a key; sweeping instead",
    );
    return null;
  };

  const onWake = (w: Wake) => {
    if (w.table === SWEEP_REQUEST_TABLE) {
      // An operator asked for a sweep, or for one key to run, now (the dashboard, over the database).
      if (w.column !== def.name) return;
      const key = wakeKey(w.key);
      if (key === null) {
        log.info("a sweep was requested; sweeping now");
        sweepWanted = true;
      } else {
        log.info({ key }, "a run of the key was requested; running it now");
        offer(key, null, "wake");
      }
      wake();
      return;
    }
    const route = routes.get(wakeRoute(w.table, w.column));
    if (route === undefined) return;
    metrics.wakes++;
    const key = route === "key" ? wakeKey(w.key) : null;
    if (key !== null) offer(key, null, "wake");
    else sweepWanted = true;
    wake();
  };
  let listener: WakeListener | null = null;
  // Listened to even without wakeOn tables: sweep requests come as wake-ups too. A term run
  // without a fence (sweepOnce) does not listen.
  if (routes.size > 0 || fence !== null) {
    listener = await env.store.listenWakes(
      onWake,
      () => {
        log.info("wake-up listener reconnected; sweeping, since notifications may have been lost");
        sweepWanted = true;
        wake();
      },
      def.pollMs,
    );
  }

  // Items of find that are not keys fail alone: each is counted, told to the error hook and
  // logged (the first few of a sweep one by one, the rest in one line), and the sweep goes on.
  const reportInvalid = (invalid: readonly InvalidFound[]) => {
    if (invalid.length === 0) return;
    metrics.invalidKeys += invalid.length;
    invalid.forEach((item, i) => {
      options.onInvalidKey?.(item);
      env.onError?.(item.error, { converger: def.name });
      if (i < 10)
        log.error({ err: item.error, index: item.index }, "find returned an invalid key; it is skipped");
    });
    if (invalid.length > 10) {
      log.error({ count: invalid.length - 10 }, "find returned more invalid keys; they are skipped too");
    }
  };

  const sweep = async () => {
    sweeping = true;
    sweepWanted = false;
    nextSweepAt = Date.now() + def.everyMs;
    metrics.sweeps++;
    const watch = env.observer?.sweep?.(def.name);
    try {
      // find takes a slot of the shared limiter too, so sweeps never exceed the process-wide bound.
      const release = env.limiter === undefined ? undefined : await env.limiter.acquire(signal);
      const link = linkSignals([signal], def.timeoutMs);
      let result: unknown;
      let failure: { err: unknown } | null = null;
      try {
        const ctx = findContext(env, link.signal);
        result = await (watch === undefined ? def.find(ctx) : watch.run(() => def.find(ctx)));
      } catch (err) {
        failure = { err };
      } finally {
        link.dispose();
        release?.();
      }
      // A find past its timeout is one failure however it ended: rejected with its aborted
      // signal's reason (it honoured ctx.signal), or returned late (it ignored it).
      if (link.timedOut) {
        metrics.timeouts++;
        throw findTimeout(def.name, def.timeoutMs, failure?.err);
      }
      if (failure !== null) throw failure.err;
      const { found, invalid } = normalizeFound(def.name, result);
      reportInvalid(invalid);
      for (const f of found) offer(f.key, f.version, "sweep", watch?.origin);
      metrics.lastSweepAt = Date.now();
      metrics.parked = queue.size().terminal;
      watch?.end(null, found.length);
    } catch (err) {
      watch?.end(err, 0);
      if (!signal.aborted) {
        metrics.findErrors++;
        options.onFindError?.(err);
        env.onError?.(err, { converger: def.name });
        if (firstSweep && isTendError(err, "TEND_E_CONVERGER_INVALID_KEYS")) options.onInvalidKeys(err);
        else log.error({ err }, "find failed; the next sweep tries again");
      }
    } finally {
      firstSweep = false;
      sweeping = false;
      wake();
    }
  };

  const start = (item: TakenKey) => {
    // runKey never throws by contract; should it reject all the same (a bug, an error hook that
    // throws), the key's run ends as a failure that backs off, never as an unhandled rejection.
    const run = runKey(env, item, signal, fence).catch((err: unknown): KeyResult => {
      metrics.errors++;
      log.error({ err, key: item.key }, "a key run failed unexpectedly; the key backs off");
      return {
        aborted: signal.aborted,
        finish: { kind: "error", delayMs: keyBackoffMs(item.failures + 1, def.backoff, env.random) },
        changed: null,
        fencedOut: false,
        failed: true,
        error: err,
      };
    });
    const p = run.then((result) => {
      if (result.fencedOut) options.onFencedOut();
      if (!result.aborted) queue.finish(item.key, result.finish, Date.now());
      if (result.finish.kind === "terminal") {
        env.metrics.parked = queue.size().terminal;
        // Run again at once (woken, or changed while it ran), not parked: the record the failure
        // wrote would park it again in a later term.
        if (!result.aborted && !queue.isTerminal(item.key))
          env.store
            .clearTerminal(def.name, item.key)
            .catch((err: unknown) => log.warn({ err, key: item.key }, "could not clear a terminal key"));
      }
      options.onResult?.(item.key, result);
    });
    const tracked = p
      .catch((err: unknown) => {
        try {
          log.error({ err, key: item.key }, "could not finish a key run");
        } catch {
          // The logger failed too: nothing more to tell.
        }
      })
      .finally(() => {
        running.delete(tracked);
        wake();
      });
    running.add(tracked);
  };

  const stopParkedListener =
    env.notifier === undefined
      ? async () => {}
      : await env.notifier
          .listen(PARKED_CHANNEL, (payload) => {
            if (payload === def.name || payload === "*") void resyncParked();
          })
          .catch((err: unknown) => {
            log.warn(
              { err },
              "cannot hear cleared parked keys; they run again when the converger next leads",
            );
            return async () => {};
          });
  const pruning = keepPruned(env.store, def.name, env.retention, log, signal, (keys) => {
    for (const key of keys) queue.unpark(key);
  });
  try {
    while (!signal.aborted) {
      kicked = false;
      const now = Date.now();
      if (!sweeping && (sweepWanted || now >= nextSweepAt)) sweepRun = sweep();
      queue.due(now);
      while (running.size < def.concurrency) {
        const item = queue.take();
        if (item === null) break;
        start(item);
      }
      if (kicked) continue;
      const due = queue.nextDueAt();
      const until = Math.min(nextSweepAt, due ?? Number.POSITIVE_INFINITY) - Date.now();
      const link = linkSignals([signal]);
      kick = () => link.abort();
      await sleep(Math.max(1, until), undefined, { signal: link.signal }).catch(() => {});
      link.dispose();
      kick = () => {};
    }
  } finally {
    options.onQueue?.(null);
    if (resyncTimer !== null) clearTimeout(resyncTimer);
    await listener?.stop().catch(() => {});
    await stopParkedListener().catch(() => {});
    await Promise.allSettled(running);
    await sweepRun;
    await pruning;
  }
}
