import { TendError } from "../errors/index.ts";
import { type Limiter, linkSignals } from "../lifecycle/index.ts";
import type { Logger } from "../log/index.ts";
import {
  type ConvergeStore,
  type Fence,
  type Notifier,
  storableText,
  type UserDatabase,
} from "../store/index.ts";
import { keyBackoffMs } from "./backoff.ts";
import type { ConvergeContext, EnqueueFn, FindContext } from "./context.ts";
import type { NormalizedDefinition } from "./definition.ts";
import type { KeyFinish, TakenKey } from "./key-queue.ts";
import { type ConvergerMetrics, observeDuration } from "./metrics.ts";
import type { ConvergeObserver } from "./observer.ts";
import { interpretOutcome } from "./outcome.ts";
import { recordChange, type RecordOutcome } from "./record-change.ts";
import type { InconsistencyRecorder } from "./recorder.ts";
import type { ConvergerRetention } from "./retention.ts";
import { isTerminalError } from "./terminal-error.ts";
import { thrownMessage } from "./thrown.ts";
import { convergeTimeout } from "./timeout.ts";

/** What a converger's calls need, shared by its sweeps and key runs. */
export interface ConvergerEnv {
  def: NormalizedDefinition;
  store: ConvergeStore;
  log: Logger;
  limiter: Limiter | undefined;
  enqueue: EnqueueFn | undefined;
  metrics: ConvergerMetrics;
  random: () => number;
  /** Batches this converger's inconsistency inserts. */
  recorder: InconsistencyRecorder;
  /** The store's notifier, to hear that an operator cleared parked keys (absent in one-off sweeps). */
  notifier: Notifier | undefined;
  /** How long this converger's records are kept. */
  retention: ConvergerRetention;
  /** Told of every failed `find` and `converge` (the app's error hook). */
  onError?: ConvergeErrorHook | undefined;
  /** Told of every sweep, key run and inconsistency (traces, diagnostics channels). */
  observer?: ConvergeObserver | undefined;
}

/** Told of a converger's failures: `key` is absent for a failed `find`. */
export type ConvergeErrorHook = (error: unknown, context: { converger: string; key?: string }) => void;

/** How one key run ended. */
export interface KeyResult {
  /** The run was cut short because its term or the process is stopping: nothing to record. */
  aborted: boolean;
  finish: KeyFinish;
  /** What changed, or null. */
  changed: unknown;
  /** The inconsistency could not be recorded because this process no longer holds the lease. */
  fencedOut: boolean;
  /**
   * Whether the run failed. A failure is told by this flag, never by `error`: `converge` may
   * throw anything, `null` and `undefined` included.
   */
  failed: boolean;
  /** What the run failed with (meaningful only when `failed`). */
  error: unknown;
  /** The change was made but its record could not be stored (TEND_E_CONVERGER_RECORD_LOST). */
  recordLost?: unknown;
}

function noJobs(converger: string): EnqueueFn {
  return async () => {
    throw new TendError(
      "TEND_E_CONVERGER_NO_JOBS",
      `Converger "${converger}" called ctx.enqueue, but it was created without a jobs layer; create it through app.converger() or pass deps.enqueue.`,
      { details: { converger } },
    );
  };
}

/**
 * Builds what `find` gets: the app's database (ctx.sql, ctx.transaction, ctx.db / ctx.pool),
 * the call's signal and a logger.
 *
 * @example
 * ```ts
 * const ctx = findContext(env, AbortSignal.timeout(1000));
 * ```
 */
export function findContext(env: ConvergerEnv, signal: AbortSignal, log: Logger = env.log): FindContext {
  const access: UserDatabase = env.store.access;
  const enqueue = env.enqueue ?? noJobs(env.def.name);
  return {
    converger: env.def.name,
    driver: access.driver,
    sql: access.sql,
    transaction: (fn) =>
      access.transaction((open) =>
        fn({
          ...open,
          enqueue: (kind, payload, options = {}) => enqueue(kind, payload, { ...options, tx: open.handle }),
        }),
      ),
    get db() {
      return access.db;
    },
    pool: access.pool,
    signal,
    log,
  };
}

/**
 * Runs `converge` for one key under the converger's timeout and the shared limiter, records an
 * inconsistency (fenced, a failed write retried without storing it twice: see `recordChange`)
 * when it changed something, also when it returned its change after its timeout (then still a
 * timeout failure), and says how the key should be scheduled next. Only a stored record is
 * counted and published; a lost one is counted in `recordsLost` and told to the error hook.
 * Never throws: a failing key fails alone.
 *
 * @example
 * ```ts
 * const result = await runKey(env, { key: "42", version: null, failures: 0 }, termSignal, fence);
 * ```
 */
export async function runKey(
  env: ConvergerEnv,
  item: TakenKey,
  parent: AbortSignal,
  fence: Fence | null,
): Promise<KeyResult> {
  const { def, metrics } = env;
  const aborted: KeyResult = {
    aborted: true,
    finish: { kind: "ok" },
    changed: null,
    fencedOut: false,
    failed: false,
    error: null,
  };
  let release: (() => void) | undefined;
  try {
    release = env.limiter === undefined ? undefined : await env.limiter.acquire(parent);
  } catch {
    return aborted;
  }
  const link = linkSignals([parent], def.timeoutMs);
  const signal = link.signal;
  const log = env.log.child({ key: item.key });
  // The find context is the prototype so that its lazy `db` getter is not evaluated here.
  const ctx: ConvergeContext = Object.assign(Object.create(findContext(env, signal, log)) as FindContext, {
    key: item.key,
    version: item.version,
    failures: item.failures,
    enqueue: env.enqueue ?? noJobs(def.name),
  });
  const watch = env.observer?.run?.(def.name, item.key, item.failures, item.origin);
  const started = performance.now();
  const startedAt = new Date();
  let value: unknown;
  // A failure is recorded as such, not as a non-null value: `throw null` is a failure too.
  let failure: { err: unknown } | null = null;
  try {
    value = await (watch === undefined
      ? def.converge(item.key, ctx)
      : watch.run(() => def.converge(item.key, ctx)));
  } catch (err) {
    failure = { err };
  } finally {
    link.dispose();
    release?.();
  }
  // A call that ignored its aborted signal and returned late ran past its timeout all the same;
  // what it returned still counts when it says it changed something (the change was made).
  const late = failure === null && link.timedOut;
  metrics.runs++;
  observeDuration(metrics, performance.now() - started);
  let outcome = { changed: null as unknown, requeueAfterMs: null as number | null };
  if (failure === null) {
    try {
      outcome = interpretOutcome(def.name, value);
    } catch (err) {
      if (!late) failure = { err };
    }
  }
  const record = (changed: unknown) =>
    recordChange({
      converger: def.name,
      key: item.key,
      changes: changed,
      fence,
      store: env.store,
      recorder: env.recorder,
      log,
      since: startedAt,
      signal: parent,
    });
  if (failure !== null || late) {
    let error = failure?.err;
    if (parent.aborted && !link.timedOut) {
      watch?.end("aborted", error);
      return { ...aborted, error };
    }
    metrics.errors++;
    let lateChange: Awaited<ReturnType<typeof record>> | null = null;
    if (link.timedOut) {
      metrics.timeouts++;
      if (late && outcome.changed !== null) lateChange = await record(outcome.changed);
      error = convergeTimeout(def.name, item.key, def.timeoutMs, {
        ...(late ? {} : { cause: error }),
        changed: lateChange?.kind === "recorded",
      });
    }
    env.onError?.(error, { converger: def.name, key: item.key });
    const fencedOut =
      lateChange === null ? false : reportRecord(env, item.key, outcome.changed, lateChange, log);
    if (lateChange?.kind === "recorded") metrics.lateChanges++;
    watch?.end(isTerminalError(error) ? "terminal" : "error", error);
    const message = thrownMessage(error);
    if (isTerminalError(error)) {
      metrics.terminal++;
      log.error(
        { err: error },
        `converge failed terminally; key ${item.key} is not retried until it changes`,
      );
      try {
        await env.store.recordTerminal(def.name, item.key, item.version, storableText(message), fence);
      } catch (err) {
        log.warn({ err }, "could not record the terminal failure; it is kept in memory");
      }
      return {
        aborted: false,
        finish: { kind: "terminal", message },
        changed: null,
        fencedOut: false,
        failed: true,
        error,
      };
    }
    const delayMs = keyBackoffMs(item.failures + 1, def.backoff, env.random);
    log.warn(
      { err: error, failures: item.failures + 1, retryInMs: delayMs },
      "converge failed; the key backs off",
    );
    return {
      aborted: false,
      finish: { kind: "error", delayMs },
      changed: lateChange?.kind === "recorded" ? outcome.changed : null,
      fencedOut,
      failed: true,
      error,
    };
  }
  let fencedOut = false;
  let recordLost: unknown = null;
  if (outcome.changed !== null) {
    const recorded = await record(outcome.changed);
    fencedOut = reportRecord(env, item.key, outcome.changed, recorded, log);
    if (recorded.kind === "lost") recordLost = recorded.error;
    watch?.end("changed", null);
  } else {
    metrics.unchanged++;
    watch?.end("unchanged", null);
  }
  const finish: KeyFinish =
    outcome.requeueAfterMs === null ? { kind: "ok" } : { kind: "requeue", afterMs: outcome.requeueAfterMs };
  return {
    aborted: false,
    finish,
    changed: outcome.changed,
    fencedOut,
    failed: false,
    error: null,
    ...(recordLost === null ? {} : { recordLost }),
  };
}

/**
 * Tells of how recording a change ended: a stored record is counted, published to observers and
 * logged as converged; a record fenced out or lost is counted as lost, told to the error hook
 * (when lost) and logged as an error, never as converged. Returns whether the lease is gone.
 */
function reportRecord(
  env: ConvergerEnv,
  key: string,
  changes: unknown,
  outcome: RecordOutcome,
  log: Logger,
): boolean {
  const { def, metrics } = env;
  if (outcome.kind === "recorded") {
    metrics.changes++;
    env.observer?.inconsistency?.(def.name, key, changes);
    log.info({ changes }, "inconsistency converged");
    return false;
  }
  metrics.recordsLost++;
  if (outcome.kind === "fenced") {
    log.warn(
      { changes },
      "lease lost before the inconsistency was recorded; its record is lost (the change was made); stopping here",
    );
    return true;
  }
  env.onError?.(outcome.error, { converger: def.name, key });
  log.error(
    { err: outcome.error, changes, attempts: outcome.attempts },
    "inconsistency lost: the change was made but its record could not be stored",
  );
  return false;
}
