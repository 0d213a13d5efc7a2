import { setTimeout as sleep } from "node:timers/promises";
import {
  checkFunction,
  checkLogger,
  checkObject,
  checkSignal,
  describeValue,
  invalidArgument,
  optionKeys,
  rejectUnknownKeys,
  TendError,
} from "../errors/index.ts";
import { defaultWorkerId, type Limiter, linkSignals, type Task } from "../lifecycle/index.ts";
import type { Logger } from "../log/index.ts";
import type { ConvergeStore, Fence, Store } from "../store/index.ts";
import type { EnqueueFn } from "./context.ts";
import { type ConvergerDefinition, type NormalizedDefinition, normalizeDefinition } from "./definition.ts";
import type { ConvergeErrorHook, ConvergerEnv, KeyResult } from "./execute.ts";
import { checkHolderId } from "./bounds.ts";
import { type Found, normalizeFound } from "./keys.ts";
import { leaseDeadline, leaseRetryMs } from "./lease.ts";
import { type ConvergerMetrics, newMetrics } from "./metrics.ts";
import type { ConvergeObserver } from "./observer.ts";
import { InconsistencyRecorder } from "./recorder.ts";
import { type ConvergerRetention, DEFAULT_RETENTION } from "./retention.ts";
import { convergeStoreOf } from "./store.ts";
import { runTerm, type WakeRoutes, wakeRoute } from "./term.ts";
import type { BackoffKey, KeyQueue } from "./key-queue.ts";

/** Notification channel on which a leader announces it released a converger's lease (payload: name). */
export const LEASE_CHANNEL = "converge.lease";

/** What a converger needs from the app. */
export interface ConvergerDeps {
  store: Store;
  log: Logger;
  /** Process-wide limit shared by every converger (size it at or below the pool size). */
  limiter?: Limiter;
  /** The jobs layer's enqueue, for `ctx.enqueue`. */
  enqueue?: EnqueueFn;
  /** This process's identity in leases (default: {@link defaultWorkerId}: TEND_WORKER_ID, else `<host>:<pid>:<random>`). */
  holderId?: string;
  /** Random source for backoff jitter (tests). */
  random?: () => number;
  /** How long the converger's inconsistencies and parked keys are kept (default 30 days each). */
  retention?: ConvergerRetention;
  /** Told of every failed `find` and `converge` (the app's error hook). */
  onError?: ConvergeErrorHook;
  /** Told of every sweep, key run and inconsistency recorded (the app's traces and channels). */
  observer?: ConvergeObserver;
}

const DEPS_KEYS = optionKeys<ConvergerDeps>({
  store: true,
  log: true,
  limiter: true,
  enqueue: true,
  holderId: true,
  random: true,
  retention: true,
  onError: true,
  observer: true,
});

const DEPS_CODE = "TEND_E_CONVERGER_INVALID_OPTION";

/** Throws TEND_E_CONVERGER_INVALID_OPTION (or TEND_E_UNKNOWN_OPTION) for bad dependencies. */
function checkDeps(name: string, deps: unknown): asserts deps is ConvergerDeps {
  const where = `dependencies of converger "${name}"`;
  const d = checkObject(
    DEPS_CODE,
    where,
    deps,
    "an object { store, log, limiter?, enqueue?, holderId?, ... }",
  );
  rejectUnknownKeys(where, d, DEPS_KEYS, DEPS_CODE);
  const store = d["store"];
  if ((typeof store !== "object" && typeof store !== "function") || store === null)
    throw invalidArgument(
      DEPS_CODE,
      `${where}: store`,
      store,
      "a Store from openStore (or a promise of one)",
    );
  checkLogger(DEPS_CODE, `${where}: log`, d["log"]);
  for (const key of ["enqueue", "random", "onError"] as const)
    if (d[key] !== undefined) checkFunction(DEPS_CODE, `${where}: ${key}`, d[key]);
  for (const key of ["limiter", "retention", "observer"] as const)
    if (d[key] !== undefined) checkObject(DEPS_CODE, `${where}: ${key}`, d[key]);
}

/** A converger: a Task to run under the Manager, with counters and a one-sweep entry for tests. */
export interface Converger extends Task {
  readonly name: string;
  readonly definition: NormalizedDefinition;
  /** The lease holder id of this process. */
  readonly holderId: string;
  /** A snapshot of the counters. */
  metrics(): ConvergerMetrics;
  /** Whether this process leads the converger now. */
  isLeader(): boolean;
  /** Keys waiting out a backoff after failing, while this process leads (at most 500; else empty). */
  backingOff(): BackoffKey[];
  /**
   * Runs one sweep now, without the lease (for tests and `tend/testing`): `find`, then `converge`
   * for every key found (with the converger's concurrency), recording inconsistencies unfenced.
   */
  sweepOnce(options?: { signal?: AbortSignal }): Promise<SweepReport>;
}

/**
 * What one sweep did: the keys found, the changes made (and recorded, or lost: then also an
 * error), and the keys that failed. An item of `find` that is not a valid key is in `errors`
 * (TEND_E_CONVERGER_INVALID_KEYS) under its key text, or the item's description when it is not
 * a key at all, and not in `keys`.
 */
export interface SweepReport {
  keys: string[];
  changed: Array<{ key: string; changes: unknown }>;
  errors: Array<{ key: string; error: unknown }>;
}

async function prepareWakes(def: NormalizedDefinition, store: ConvergeStore): Promise<WakeRoutes> {
  const routes = new Map<string, "key" | "sweep">();
  for (const table of def.wakeOn) {
    const shown = table.schema === null ? table.table : `${table.schema}.${table.table}`;
    if (!(await store.tableExists(table))) {
      throw new TendError(
        "TEND_E_CONVERGER_UNKNOWN_TABLE",
        `Converger "${def.name}": wakeOn table "${shown}" does not exist; create it (run the app's migrations) before starting, or fix the name.`,
        { details: { converger: def.name, table: shown } },
      );
    }
    if (table.key !== null && !(await store.columnExists(table, table.key))) {
      throw new TendError(
        "TEND_E_CONVERGER_UNKNOWN_COLUMN",
        `Converger "${def.name}": wakeOn key column "${table.key}" does not exist in table "${shown}"; name the column that holds the converger's key.`,
        { details: { converger: def.name, table: shown, column: table.key } },
      );
    }
    const id = await store.installWakeTrigger(table);
    routes.set(wakeRoute(id, table.key ?? ""), table.key === null ? "sweep" : "key");
  }
  return routes;
}

/**
 * Creates a converger: an idempotent reconcile loop over the app's own tables. Run it as a Task
 * under the Manager (the app does this for `app.converger(...)`). With several processes, one
 * leads each converger at a time through a lease with a fencing epoch; the others stand by.
 * Throws TEND_E_CONVERGER_* at once for a bad definition; `run` throws
 * TEND_E_CONVERGER_UNKNOWN_TABLE / TEND_E_CONVERGER_INVALID_KEYS at start-up.
 *
 * @example
 * ```ts
 * const converger = createConverger(
 *   { name: "archive-account-resources", every: "30s", wakeOn: [{ table: "account", key: "id" }], find, converge },
 *   { store, log, limiter: new Limiter(8) },
 * );
 * manager.run(converger);
 * ```
 */
export function createConverger(definition: ConvergerDefinition, deps: ConvergerDeps): Converger {
  const def = normalizeDefinition(definition);
  checkDeps(def.name, deps);
  const holderId =
    deps.holderId === undefined ? defaultWorkerId() : checkHolderId(deps.holderId, "converger holderId");
  const log = deps.log.child({ part: "converge", converger: def.name });
  const metrics = newMetrics();
  let envPromise: Promise<ConvergerEnv> | undefined;
  const env = () => {
    envPromise ??= Promise.resolve(deps.store)
      .then(convergeStoreOf)
      .then((store) => ({
        def,
        store,
        log,
        limiter: deps.limiter,
        enqueue: deps.enqueue,
        metrics,
        random: deps.random ?? Math.random,
        recorder: new InconsistencyRecorder(store, def.name),
        notifier: deps.store.notifier,
        retention: deps.retention ?? DEFAULT_RETENTION,
        onError: deps.onError,
        observer: deps.observer,
      }));
    return envPromise;
  };

  let termQueue: KeyQueue | null = null;

  /** Leads one term under `fence`, whose acquisition was asked at `askedAt` (the lease runs from then at the latest). */
  async function lead(
    e: ConvergerEnv,
    routes: WakeRoutes,
    signal: AbortSignal,
    fence: Fence,
    askedAt: number,
  ): Promise<void> {
    const term = new AbortController();
    const termSignal = AbortSignal.any([signal, term.signal]);
    let lost = false;
    let failure: unknown = null;
    let retryAfterMs = 0;
    const loseLease = (why: string) => {
      if (lost || signal.aborted) return;
      lost = true;
      metrics.leasesLost++;
      log.warn(
        { epoch: fence.epoch, why },
        "lost the converger's lease; stopping it here until the lease is free again",
      );
      term.abort(
        new TendError("TEND_E_CONVERGER_LEASE_LOST", `Converger "${def.name}" lost its lease: ${why}.`),
      );
    };
    const renewer = (async () => {
      // The lease's deadline counts from before the acquisition was sent: the store may have granted
      // it any time between then and its answer.
      let lastRenewStart = askedAt;
      while (!termSignal.aborted) {
        const wait = Math.min(
          leaseRetryMs({ kind: "renew", epoch: 0, expiresAt: 0 }, 0, def.leaseTtlMs),
          Math.max(1, leaseDeadline(lastRenewStart, def.leaseTtlMs) - Date.now()),
        );
        await sleep(wait, undefined, { signal: termSignal }).catch(() => {});
        if (termSignal.aborted) return;
        const started = Date.now();
        try {
          // A renewal that hangs (a partitioned network) must not outlive the lease: give up at the deadline.
          const deadline = leaseDeadline(lastRenewStart, def.leaseTtlMs) - Date.now();
          const timer = new AbortController();
          const attempt = await Promise.race([
            e.store.acquireLease(def.name, holderId, def.leaseTtlMs),
            sleep(Math.max(1, deadline), null, { signal: timer.signal }).catch(() => null),
          ]).finally(() => timer.abort());
          if (attempt === null) return loseLease("the renewal did not answer before the lease's deadline");
          if (!attempt.held) return loseLease(`taken by ${attempt.holder}`);
          if (attempt.epoch !== fence.epoch)
            return loseLease(`epoch moved from ${fence.epoch} to ${attempt.epoch}`);
          lastRenewStart = started;
        } catch (err) {
          log.warn({ err }, "could not renew the converger's lease; retrying");
          if (Date.now() >= leaseDeadline(lastRenewStart, def.leaseTtlMs))
            return loseLease("not renewed in time");
        }
      }
    })();
    metrics.leader = true;
    metrics.leaderTerms++;
    metrics.firstLedAt ??= Date.now();
    log.info({ epoch: fence.epoch }, "leading the converger");
    try {
      await runTerm({
        env: e,
        fence,
        signal: termSignal,
        routes,
        onFencedOut: () => loseLease("fenced out while recording"),
        onQueue: (q) => {
          termQueue = q;
        },
        onInvalidKeys: (err) => {
          failure = err;
          term.abort(err);
        },
      });
    } catch (err) {
      // A term that could not start or run (the store unreachable while loading terminal keys or
      // listening): give the lease back, wait a little, and contend again. Never fails the app.
      if (!signal.aborted) {
        log.error({ err }, "the converger's term failed; releasing the lease and retrying");
        retryAfterMs = Math.min(1000, Math.max(10, Math.floor(def.leaseTtlMs / 3)));
      }
    } finally {
      metrics.leader = false;
      term.abort();
      await renewer;
      if (!lost) {
        await e.store
          .releaseLease(def.name, fence)
          .catch((err: unknown) => log.warn({ err }, "could not release the lease"));
        await deps.store.notifier.notify(LEASE_CHANNEL, def.name).catch(() => {});
        log.info({ epoch: fence.epoch }, "released the converger's lease");
      }
    }
    if (failure !== null) throw failure;
    if (retryAfterMs > 0) await sleep(retryAfterMs, undefined, { signal }).catch(() => {});
  }

  /** Takes the lease when free, leads a term, and stands by again after losing it, until shutdown. */
  async function contend(
    e: ConvergerEnv,
    routes: WakeRoutes,
    signal: AbortSignal,
    freedSignal: () => AbortSignal,
  ): Promise<void> {
    while (!signal.aborted) {
      let attempt: Awaited<ReturnType<ConvergeStore["acquireLease"]>>;
      const askedAt = Date.now();
      try {
        attempt = await e.store.acquireLease(def.name, holderId, def.leaseTtlMs);
      } catch (err) {
        log.warn({ err }, "could not reach the store to take the converger's lease; retrying");
        await sleep(Math.min(1000, def.leaseTtlMs / 3), undefined, { signal }).catch(() => {});
        continue;
      }
      if (!attempt.held) {
        const wait = leaseRetryMs(
          { kind: "wait", holder: attempt.holder, expiresAt: attempt.expiresAt },
          attempt.now,
          def.leaseTtlMs,
        );
        const link = linkSignals([signal, freedSignal()]);
        await sleep(wait, undefined, { signal: link.signal }).catch(() => {});
        link.dispose();
        continue;
      }
      await lead(e, routes, signal, { holder: holderId, epoch: attempt.epoch }, askedAt);
    }
  }

  const converger: Converger = {
    name: `converger:${def.name}`,
    definition: def,
    holderId,
    metrics: () => structuredClone(metrics),
    isLeader: () => metrics.leader,
    backingOff: () => termQueue?.backingOff(500) ?? [],
    async run(signal: AbortSignal): Promise<void> {
      const e = await env();
      const routes = await prepareWakes(def, e.store);
      // A standby retries at once when a leader releases the lease (best effort; it also polls).
      let freed = new AbortController();
      const stopListening = await deps.store.notifier
        .listen(LEASE_CHANNEL, (payload) => {
          if (payload === def.name || payload === "*") freed.abort();
        })
        .catch((err: unknown) => {
          log.warn({ err }, "cannot listen for lease releases; standbys poll instead");
          return async () => {};
        });
      try {
        await contend(e, routes, signal, () => {
          // A release heard since the last look (even while that acquire was in flight, when it
          // still saw the old holder) is returned already aborted: the standby retries at once
          // instead of sleeping through it. The next look gets a fresh signal.
          const s = freed.signal;
          if (s.aborted) freed = new AbortController();
          return s;
        });
      } finally {
        await stopListening();
      }
    },
    async sweepOnce(options = {}): Promise<SweepReport> {
      checkObject(DEPS_CODE, "sweepOnce options", options, "an options object { signal? } (or nothing)");
      if (options.signal !== undefined) checkSignal(DEPS_CODE, "sweepOnce signal", options.signal);
      const e = await env();
      const report: SweepReport = { keys: [], changed: [], errors: [] };
      const controller = new AbortController();
      const signal =
        options.signal === undefined
          ? controller.signal
          : AbortSignal.any([options.signal, controller.signal]);
      // One term whose first sweep ends it once every key it found has run.
      let pendingKeys: Set<string> | null = null;
      const settled = (key: string): void => {
        pendingKeys?.delete(key);
        if (pendingKeys?.size === 0) controller.abort();
      };
      // A change returned after the timeout is both: a timeout error, and a change recorded. A
      // change whose record was lost is a change and an error (TEND_E_CONVERGER_RECORD_LOST).
      const done = (key: string, result: KeyResult) => {
        if (result.failed) report.errors.push({ key, error: result.error });
        if (result.recordLost !== undefined) report.errors.push({ key, error: result.recordLost });
        if (result.changed !== null) report.changed.push({ key, changes: result.changed });
        settled(key);
      };
      // A key parked by an earlier terminal failure does not run: reported, not waited for.
      const parked = (key: string) => {
        report.errors.push({
          key,
          error: new TendError(
            "TEND_E_CONVERGER_KEY_PARKED",
            `Key "${key}" of converger "${def.name}" is parked: an earlier run failed with a TerminalError and the key has not changed since, so it was not run. Change the key's row (or its version), or wake it, to run it again.`,
            { details: { converger: def.name, key } },
          ),
        });
        settled(key);
      };
      // An error of find ends the one-off sweep with it (a term would try again at its next sweep).
      let findFailed: { err: unknown } | null = null;
      const find = def.find;
      const wrapped: ConvergerEnv = {
        ...e,
        notifier: undefined,
        retention: { inconsistenciesMs: null, parkedKeysMs: null },
        def: {
          ...def,
          everyMs: 2_147_483_647,
          // A failing find (or one past its timeout) is reported by the sweep through onFindError,
          // which ends the one-off sweep with that error.
          // Its items are read once (find may return a one-shot iterator) and handed on as they
          // are: the sweep reports those that are not keys through onInvalidKey.
          find: async (ctx) => {
            const raw: unknown = await find(ctx);
            const items =
              raw !== null && typeof raw === "object" && Symbol.iterator in raw
                ? [...(raw as Iterable<unknown>)]
                : raw;
            const { found } = normalizeFound(def.name, items);
            // Its signal aborted (a timeout, which the sweep reports, or the end of the sweep): no keys to wait for.
            if (ctx.signal.aborted) return found;
            report.keys = found.map((f) => f.key);
            pendingKeys = new Set(report.keys);
            if (pendingKeys.size === 0) controller.abort();
            return items as Iterable<Found>;
          },
        },
      };
      let invalid: unknown = null;
      await runTerm({
        env: wrapped,
        fence: null,
        signal,
        routes: new Map(),
        onFencedOut: () => {},
        onInvalidKeys: (err) => {
          invalid = err;
          controller.abort();
        },
        onResult: done,
        onParked: parked,
        // An item of find that is not a key fails alone: reported under its key text (or, for a
        // value that is not a key at all, its description), not waited for.
        onInvalidKey: (item) => {
          report.errors.push({ key: item.key ?? describeValue(item.value), error: item.error });
        },
        onFindError: (err) => {
          findFailed ??= { err };
          controller.abort();
        },
      });
      if (invalid !== null) throw invalid;
      if (findFailed !== null) throw (findFailed as { err: unknown }).err;
      return report;
    },
  };
  return converger;
}
