import { checkInteger, checkObject, optionKeys, rejectUnknownKeys, TendError } from "../errors/index.ts";
import { type Duration, Limiter } from "../lifecycle/index.ts";
import type { Logger } from "../log/index.ts";
import type { Store } from "../store/index.ts";
import type { EnqueueFn } from "./context.ts";
import type { ConvergeErrorHook } from "./execute.ts";
import type { ConvergeObserver } from "./observer.ts";
import { checkHolderId } from "./bounds.ts";
import { type ConvergerDefinition, normalizeDefinition } from "./definition.ts";
import { type ConvergerRetention, DEFAULT_RETENTION, retentionMs } from "./retention.ts";
import { type Converger, createConverger } from "./runner.ts";

/** Options of {@link AppConvergers}. */
export interface AppConvergersOptions {
  /**
   * Converge and find calls running at once across every converger of the process (default 4).
   * Keep it below the store's pool size so that convergers never starve the jobs worker.
   */
  concurrency?: number;
  /**
   * This process's identity in leases (default: the app's worker id, else TEND_WORKER_ID, else
   * host:pid:random): a non-blank string of at most 256 characters without control characters.
   */
  holderId?: string;
  /**
   * How long inconsistencies are kept (default `"30d"`; `false`: forever). Each converger's leader
   * deletes its older ones when it starts leading and every 10 minutes, in batches of 1,000.
   */
  inconsistencyRetention?: Duration | false;
  /**
   * How long a key stays parked after its `converge` threw a TerminalError, unless it changes
   * first (default `"30d"`; `false`: until it changes or is cleared). Then its record is deleted
   * and the next sweep that finds it runs it again.
   */
  parkedKeyRetention?: Duration | false;
}

const OPTION_KEYS = optionKeys<AppConvergersOptions>({
  concurrency: true,
  holderId: true,
  inconsistencyRetention: true,
  parkedKeyRetention: true,
});

/**
 * The convergers of one app, by name: the one place that owns converger names. `define` checks a
 * definition at once (bad options throw, and a second converger with a name already defined
 * throws TEND_E_CONVERGER_DUPLICATE_NAME, when the app is assembled, not later); `tasks` builds
 * them once the store is open, all sharing one process-wide {@link Limiter}. `app.converger(def)`
 * uses this.
 *
 * @example
 * ```ts
 * const convergers = new AppConvergers({ concurrency: 4 });
 * convergers.define({ name: "archive-account-resources", find, converge, wakeOn: [{ table: "account", key: "id" }] });
 * app.use(({ store, log }) => convergers.tasks({ store, log, enqueue: (k, p, o) => app.enqueue(k, p, o) }));
 * ```
 */
export class AppConvergers {
  /** Each definition by its name, in the order defined. */
  readonly #definitions = new Map<string, ConvergerDefinition>();
  readonly #limiter: Limiter;
  readonly #holderId: string | undefined;
  readonly #retention: ConvergerRetention;
  /** The convergers, by name, once built. */
  #built: Map<string, Converger> | null = null;
  #onError: ConvergeErrorHook | undefined;
  #observer: ConvergeObserver | undefined;

  constructor(options: AppConvergersOptions = {}) {
    checkObject(
      "TEND_E_CONVERGER_INVALID_OPTION",
      "convergers options",
      options,
      "an object { concurrency?, holderId?, inconsistencyRetention?, parkedKeyRetention? }",
    );
    rejectUnknownKeys("convergers options", options, OPTION_KEYS);
    const concurrency =
      options.concurrency === undefined
        ? 4
        : checkInteger("TEND_E_CONVERGER_INVALID_OPTION", "convergers concurrency", options.concurrency, 1);
    this.#limiter = new Limiter(concurrency);
    this.#holderId =
      options.holderId === undefined ? undefined : checkHolderId(options.holderId, "convergers holderId");
    this.#retention = {
      inconsistenciesMs: retentionMs(
        options.inconsistencyRetention,
        "convergers inconsistencyRetention",
        DEFAULT_RETENTION.inconsistenciesMs,
      ),
      parkedKeysMs: retentionMs(
        options.parkedKeyRetention,
        "convergers parkedKeyRetention",
        DEFAULT_RETENTION.parkedKeysMs,
      ),
    };
  }

  /** Checks and keeps a definition; throws TEND_E_CONVERGER_* naming what is wrong. */
  define(definition: ConvergerDefinition): void {
    const { name } = normalizeDefinition(definition);
    if (this.#definitions.has(name)) {
      throw new TendError(
        "TEND_E_CONVERGER_DUPLICATE_NAME",
        `A converger named "${name}" is already defined; give each converger its own name (it names its lease and inconsistencies).`,
        { details: { name } },
      );
    }
    this.#definitions.set(name, definition);
  }

  /** The number of convergers defined. */
  get size(): number {
    return this.#definitions.size;
  }

  /** Builds one Task per converger (once; later calls return the same convergers). */
  tasks(deps: { store: Store; log: Logger; enqueue?: EnqueueFn }): Converger[] {
    if (this.#built === null) {
      const built = new Map<string, Converger>();
      for (const [name, definition] of this.#definitions) {
        built.set(
          name,
          createConverger(definition, {
            store: deps.store,
            log: deps.log,
            limiter: this.#limiter,
            retention: this.#retention,
            ...(deps.enqueue === undefined ? {} : { enqueue: deps.enqueue }),
            ...(this.#holderId === undefined ? {} : { holderId: this.#holderId }),
            ...(this.#onError === undefined ? {} : { onError: this.#onError }),
            ...(this.#observer === undefined ? {} : { observer: this.#observer }),
          }),
        );
      }
      this.#built = built;
    }
    return [...this.#built.values()];
  }

  /**
   * Sets what is told of every converger's failures (the app's error hook) and of its sweeps,
   * runs and inconsistencies (traces, channels); before `tasks`.
   */
  observe(onError: ConvergeErrorHook | undefined, observer?: ConvergeObserver): void {
    this.#onError = onError;
    this.#observer = observer;
  }

  /** Every converger built, once `tasks` was called. */
  all(): Converger[] {
    return this.#built === null ? [] : [...this.#built.values()];
  }

  /** A converger by name, once `tasks` was called. */
  get(name: string): Converger | undefined {
    return this.#built?.get(name);
  }
}
