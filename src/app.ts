import type { Logger } from "pino";
import type { Registry } from "prom-client";
import {
  AppConvergers,
  type AppConvergersOptions,
  type Converger,
  type ConvergerDefinition,
} from "./converge/index.ts";
import {
  checkBoolean,
  checkFunction,
  checkLogger,
  checkObject,
  checkString,
  describeValue,
  invalidArgument,
  isInstance,
  isRevokedProxy,
  optionKeys,
  rejectUnknownKeys,
  TendError,
} from "./errors/index.ts";
import {
  addAdminApi,
  addDashboard,
  type AdminSources,
  checkHttpOptions,
  type HttpOptions,
  type HttpServer,
  type HttpSettings,
  type Router,
  serveObservability,
} from "./http/index.ts";
import { createInbox, type Inbox, type InboxOptions } from "./inbox/index.ts";
import {
  type Batch,
  type CronScheduleOptions,
  type EnqueueItem,
  type EnqueueOptions,
  type JobHandler,
  type JobKindOptions,
  Jobs,
  type JobsOptions,
} from "./jobs/index.ts";
import {
  type Duration,
  main,
  type MainOptions,
  Manager,
  parseTimeout,
  type Task,
  type TaskLike,
  toTask,
} from "./lifecycle/index.ts";
import { createLogger } from "./log/index.ts";
import {
  createRegistry,
  type ErrorHook,
  ConvergeWatch,
  ErrorReporter,
  InboxWatch,
  JobMetrics,
  JobsWatch,
  registerConvergerMetrics,
  registerQueueMetrics,
  tendTracer,
} from "./observe/index.ts";
import {
  checkStoreOptions,
  DEFAULT_DATABASE_URL,
  type InsertResult,
  type Json,
  openStore,
  type Store,
  type StoreOptions,
} from "./store/index.ts";

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Database URL: `sqlite:./var/tend.db` (default; or env TEND_DATABASE_URL) or `postgres://...`. */
  database?: string;
  /** Logger (default: `createLogger()`: JSON lines, pretty in a terminal). */
  log?: Logger;
  /** How long a graceful stop may take before tasks are named in a ShutdownTimeout (default 30 s). */
  shutdownTimeout?: Duration;
  /** Storage options (schema, table prefix, pool size); the store logs through `log` unless given `store.log`. */
  store?: StoreOptions;
  /** Job worker options (queues, concurrency, lease, poll interval, retention...). */
  jobs?: Omit<JobsOptions, "log">;
  /** Converger options: the process-wide concurrency shared by all convergers (default 4). */
  convergers?: AppConvergersOptions;
  /**
   * Serve `/healthz`, `/readyz` and `/metrics` over HTTP, as a Task that listens before
   * `start()` returns and closes gracefully at shutdown. Binds 127.0.0.1 unless `host` is given.
   * See docs/observability.md.
   */
  http?: HttpOptions;
  /**
   * Called for every failed job attempt, discarded job, failed task, converger error and inbox
   * failure, with where it happened (see {@link App.onError}).
   */
  onError?: ErrorHook;
  /**
   * OpenTelemetry spans through `@opentelemetry/api` (default true): they cost next to nothing
   * until the program registers an SDK. `false` skips them entirely.
   */
  tracing?: boolean;
  /** Keep the metrics of this process even without `http` (default: only with `http` or once `app.metrics` is read). */
  metrics?: boolean;
}

/** What app.main accepts: main's options but the log and the shutdown budget (the app's own). */
const APP_MAIN_KEYS = optionKeys<Omit<MainOptions, "log" | "shutdownTimeout">>({
  cleanupTimeout: true,
  captureCrashes: true,
  signals: true,
  onSignal: true,
  exit: true,
});

const APP_KEYS = optionKeys<AppOptions>({
  database: true,
  log: true,
  shutdownTimeout: true,
  store: true,
  jobs: true,
  convergers: true,
  http: true,
  onError: true,
  tracing: true,
  metrics: true,
});

/** Something an app runs besides its jobs: built once the store is open. */
export type Component = (context: {
  store: Store;
  log: Logger;
  manager: Manager;
  app: App;
}) => Promise<Task[]> | Task[];

/**
 * One program's background life: durable jobs, cron, your own tasks and (through their parts)
 * convergers and inboxes, all run by one lifecycle Manager with signals, graceful shutdown and a
 * meaningful exit code.
 *
 * @example
 * ```ts
 * import { createApp } from "tend";
 *
 * const app = createApp({ database: process.env.DATABASE_URL ?? "sqlite:./var/tend.db" });
 * app.job("email.send", async ({ payload, log }) => { log.info(payload, "sending"); }, { maxAttempts: 5 });
 * app.cron("0 3 * * *", "records.purge");
 * await app.main(); // runs until SIGTERM/SIGINT; exits 0 on a clean shutdown
 * ```
 */
export class App {
  readonly log: Logger;
  /** The job queue: define, enqueue, cron, batch, cancel, retry, inspect. */
  readonly jobs: Jobs;
  readonly databaseUrl: string;
  readonly #options: AppOptions;
  readonly #tasks: Array<{ task: TaskLike; ephemeral: boolean }> = [];
  readonly #components: Component[] = [];
  #store: Promise<Store> | null = null;
  #manager: Manager | null = null;
  readonly #convergers: AppConvergers;
  readonly #drainMs: number;
  readonly #http: HttpSettings | undefined;
  #httpServer: HttpServer | null = null;
  #metrics: Registry | undefined;
  readonly #watch = new JobsWatch();
  readonly #inboxWatch = new InboxWatch();
  readonly #convergeWatch = new ConvergeWatch();
  readonly #inboxes: Inbox[] = [];
  readonly #errors: ErrorReporter;

  constructor(options: AppOptions = {}) {
    checkObject("TEND_E_INVALID_APP_OPTIONS", "app options", options);
    rejectUnknownKeys("createApp options", options, APP_KEYS, "TEND_E_INVALID_APP_OPTIONS");
    if (options.store !== undefined) {
      checkObject("TEND_E_INVALID_APP_OPTIONS", "store", options.store, "a store options object");
      checkStoreOptions(options.store);
    }
    if (options.log !== undefined) checkLogger("TEND_E_INVALID_APP_OPTIONS", "log", options.log);
    if (options.jobs !== undefined)
      checkObject("TEND_E_INVALID_JOB_OPTIONS", "jobs", options.jobs, "a jobs options object");
    if (options.database !== undefined) {
      checkString(
        "TEND_E_INVALID_DATABASE_URL",
        "database",
        options.database,
        '"sqlite:<path>" or "postgres://..."',
      );
    }
    this.#http = options.http === undefined ? undefined : checkHttpOptions(options.http);
    this.#options = options;
    this.databaseUrl = options.database ?? process.env["TEND_DATABASE_URL"] ?? DEFAULT_DATABASE_URL;
    this.log = options.log ?? createLogger();
    const shutdownMs = parseTimeout(options.shutdownTimeout ?? "30s", "shutdownTimeout");
    // In-flight work (jobs, inbox files) gets the shutdown budget less a margin to hand back what
    // did not finish before the manager's timeout.
    this.#drainMs = Math.max(100, shutdownMs - Math.min(5_000, shutdownMs / 5));
    let jobsOptions: JobsOptions;
    try {
      jobsOptions = { drainTimeout: this.#drainMs, ...options.jobs, log: this.log };
    } catch (err) {
      // A Proxy whose ownKeys trap throws, a getter that throws: the options cannot be read.
      throw new TendError(
        "TEND_E_INVALID_JOB_OPTIONS",
        `Invalid jobs: got ${describeValue(options.jobs)}, expected a jobs options object whose keys can be read.`,
        { details: { name: "jobs", expected: "a jobs options object whose keys can be read" }, cause: err },
      );
    }
    this.jobs = new Jobs(() => this.store(), jobsOptions);
    this.#errors = new ErrorReporter(this.log.child({ part: "observe" }));
    if (options.onError !== undefined) this.onError(options.onError);
    if (options.tracing !== undefined) checkBoolean("TEND_E_INVALID_APP_OPTIONS", "tracing", options.tracing);
    if (options.metrics !== undefined) checkBoolean("TEND_E_INVALID_APP_OPTIONS", "metrics", options.metrics);
    if (options.tracing !== false) {
      const tracer = tendTracer();
      this.#watch.tracer = tracer;
      this.#convergeWatch.tracer = tracer;
      this.#inboxWatch.tracer = tracer;
    }
    this.#watch.errors = this.#errors;
    this.jobs.observe(this.#watch);
    this.#inboxWatch.errors = this.#errors;
    this.#convergeWatch.errors = this.#errors;
    // One identity per app: convergers hold their leases under the jobs worker's id.
    if (options.convergers !== undefined)
      checkObject("TEND_E_CONVERGER_INVALID_OPTION", "convergers", options.convergers, "an options object");
    this.#convergers = new AppConvergers({ holderId: this.jobs.workerId, ...options.convergers });
    const convergeWatch = this.#convergeWatch;
    this.#convergers.observe((error, where) => convergeWatch.error(error, where), convergeWatch);
  }

  /**
   * The app's Prometheus registry (prom-client), with the process defaults and tend's own
   * metrics; `/metrics` serves it. Register your own metrics on it. Created (and prom-client
   * loaded) on first use.
   *
   * @example
   * ```ts
   * import { Counter } from "prom-client";
   * const signups = new Counter({ name: "app_signups_total", help: "Signups.", registers: [app.metrics] });
   * ```
   */
  get metrics(): Registry {
    if (this.#metrics === undefined) {
      const registry = createRegistry();
      registerQueueMetrics(registry, async () => (await this.store()).jobs.stats());
      this.#watch.metrics = new JobMetrics(
        registry,
        () => this.jobs.inFlight(),
        (kind) => this.jobs.defines(kind),
      );
      registerConvergerMetrics(registry, () => this.#convergers.all());
      this.#inboxWatch.register(registry, () => this.#inboxes);
      this.#metrics = registry;
    }
    return this.#metrics;
  }

  /**
   * Adds an error hook: called for every failed job attempt (`job.failed`), discarded job
   * (`job.discarded`), failed or crashed task (`task.failed`), converger error and inbox failure,
   * with the part, the ids and the attempt: the place to send errors to Sentry, Raygun or the
   * like. A hook that throws or rejects is logged and never breaks the runtime.
   *
   * @example
   * ```ts
   * app.onError((error, context) => Sentry.captureException(error, { tags: { part: context.part }, extra: context }));
   * ```
   */
  onError(hook: ErrorHook): this {
    checkFunction("TEND_E_INVALID_APP_OPTIONS", "onError", hook, "a function (error, context) => void");
    this.#errors.add(hook);
    return this;
  }

  /** The HTTP server's address (`http://127.0.0.1:9464`) once started with `http`, else null. */
  get httpAddress(): string | null {
    return this.#httpServer?.url ?? null;
  }

  /** The app's store, opened (and migrated) on first use. */
  store(): Promise<Store> {
    if (this.#store === null) {
      const opening = openStore(this.databaseUrl, { log: this.log, ...this.#options.store });
      // A store that failed to open is forgotten, so that a later call tries again.
      this.#store = opening;
      opening.catch(() => {
        if (this.#store === opening) this.#store = null;
      });
    }
    return this.#store;
  }

  /** Defines the handler of a job kind. See {@link Jobs.define}. */
  job<P = Json, R = unknown>(kind: string, handler: JobHandler<P, R>, options?: JobKindOptions<P>): this {
    this.jobs.define(kind, handler, options);
    return this;
  }

  /** Enqueues a job. See {@link Jobs.enqueue}. */
  enqueue(kind: string, payload?: unknown, options?: EnqueueOptions): Promise<InsertResult> {
    return this.jobs.enqueue(kind, payload, options);
  }

  /** Enqueues many jobs in one round trip. See {@link Jobs.enqueueMany}. */
  enqueueMany(items: readonly EnqueueItem[], options?: { tx?: unknown }): Promise<InsertResult[]> {
    return this.jobs.enqueueMany(items, options);
  }

  /** Enqueues a batch whose results can be awaited. See {@link Jobs.batch}. */
  batch(items: readonly EnqueueItem[], options?: { tx?: unknown }): Promise<Batch> {
    return this.jobs.batch(items, options);
  }

  /** Schedules a job kind on a cron expression. See {@link Jobs.cron}. */
  cron(expression: string, kind: string, payload?: unknown, options?: CronScheduleOptions): this {
    this.#checkNotRunning("app.cron() was called");
    this.jobs.cron(expression, kind, payload, options);
    return this;
  }

  /**
   * Adds a converger: an idempotent reconcile loop over your own tables, woken by a change
   * (`wakeOn`) or a timer (`every`). See docs/convergers.md.
   *
   * @example
   * ```ts
   * app.converger({
   *   name: "archive-account-resources",
   *   every: "30s",
   *   wakeOn: [{ table: "account", key: "id" }],
   *   find: (ctx) => ctx.sql("SELECT id FROM account WHERE archived_at IS NOT NULL"),
   *   converge: async (id, ctx) => ({ changed: await archiveResources(id, ctx) }),
   * });
   * ```
   */
  converger(definition: ConvergerDefinition): this {
    this.#checkNotRunning("app.converger() was called");
    const convergers = this.#convergers;
    convergers.define(definition);
    // The first converger adds the component that builds them all once the store is open.
    if (convergers.size === 1) {
      this.use(({ store, log }) =>
        convergers.tasks({
          store,
          log,
          enqueue: (kind, payload, options) => this.enqueue(kind, payload, options),
        }),
      );
    }
    return this;
  }

  /** A converger by name, once the app started (for its metrics). */
  getConverger(name: string): Converger | undefined {
    return this.#convergers.get(name);
  }

  /**
   * Adds a folder inbox: each complete file dropped into `dir` is claimed once, processed, and
   * moved to done/ or failed/. See docs/inbox.md.
   *
   * @example
   * ```ts
   * app.inbox({
   *   dir: "./var/inbox",
   *   match: "*.csv",
   *   process: async (file, ctx) => ctx.writeOutput(`${file.name}.json`, JSON.stringify(await summarize(file.path))),
   * });
   * ```
   */
  inbox(options: InboxOptions): Inbox {
    this.#checkNotRunning("app.inbox() was called");
    checkObject(
      "TEND_E_INBOX_OPTIONS",
      "inbox options",
      options,
      "an inbox options object { folder, process, ... }",
    );
    const inbox = createInbox(
      { drainTimeout: this.#drainMs, ...options },
      { log: this.log, observer: this.#inboxWatch },
    );
    this.#tasks.push({ task: inbox, ephemeral: false });
    this.#inboxes.push(inbox);
    return inbox;
  }

  /** Runs your own long-lived task with the others: when it ends, the app shuts down. */
  task(task: TaskLike): this {
    this.#checkNotRunning("app.task() was called");
    if (isRevokedProxy(task))
      throw invalidArgument("TEND_E_INVALID_TASK", "task", task, "a Task or a named function");
    toTask(task);
    this.#tasks.push({ task, ephemeral: false });
    return this;
  }

  /** Runs your own task whose clean finish does not stop the app (an error still does). */
  ephemeral(task: TaskLike): this {
    this.#checkNotRunning("app.ephemeral() was called");
    toTask(task);
    this.#tasks.push({ task, ephemeral: true });
    return this;
  }

  /** Adds a part built when the app starts (used by convergers, inboxes and other parts). */
  use(component: Component): this {
    this.#checkNotRunning("app.use() was called");
    checkFunction("TEND_E_INVALID_APP_OPTIONS", "component", component);
    this.#components.push(component);
    return this;
  }

  /**
   * Refuses a registration (or a second start) while the app runs: start() has read them already,
   * so a task added now would silently never run.
   */
  #checkNotRunning(what: string): void {
    const state = this.#manager?.state;
    if (state === undefined || state === "stopped") return;
    throw new TendError(
      "TEND_E_APP_STARTED",
      `${what} while the app is running (its manager is ${state}): add tasks, inboxes, convergers, cron schedules and components before start(), and start an app again only after it stopped.`,
      { details: { state } },
    );
  }

  /** The manager running the app, once started. */
  get manager(): Manager | null {
    return this.#manager;
  }

  /**
   * Starts every task on `manager` (a new one without signal handling if omitted) and returns it.
   * The store is closed after all tasks have ended. Use `main()` in programs; `start()` in tests
   * and when embedding tend in a program that has its own lifecycle.
   */
  async start(manager?: Manager): Promise<Manager> {
    this.#checkNotRunning("app.start() was called");
    // Checked before the app keeps it: a bad value would leave the app unable to start or close.
    if (manager !== undefined && !isInstance(manager, Manager))
      throw invalidArgument("TEND_E_INVALID_APP_OPTIONS", "manager", manager, "a Manager, or nothing");
    const m =
      manager ?? new Manager({ log: this.log, shutdownTimeout: this.#options.shutdownTimeout ?? "30s" });
    this.#manager = m;
    let storeCleanup = false;
    try {
      await this.#startOn(m, () => (storeCleanup = true));
    } catch (err) {
      // Nothing is left half running: what started is stopped (its cleanups run, the store among
      // them), and a store opened before its cleanup could be registered is closed here.
      await m.stop("the app failed to start").catch(() => {});
      if (!storeCleanup) await this.#closeStore();
      throw err;
    }
    return m;
  }

  /** The body of {@link App.start}: `registered` is called once the store's cleanup is on `m`. */
  async #startOn(m: Manager, registered: () => void): Promise<void> {
    m.onError((error) => {
      const task = error.details["task"];
      this.#errors.report(error, {
        part: "lifecycle",
        event: "task.failed",
        ...(typeof task === "string" ? { task } : {}),
      });
    });
    if (this.#options.metrics === true || process.env["TEND_METRICS"] === "1") void this.metrics;
    const store = await this.store();
    m.cleanup(() => this.#closeStore(), { name: "close store" });
    registered();
    // Listening before any other task starts: a port in use fails start at once, and the probes
    // answer from the first moment.
    if (this.#http !== undefined) m.run(await this.#startHttp(this.#http, m, store));
    if (process.env["TEND_SUPERVISED"] === "1" && typeof process.send === "function") {
      // First, so that it reports ready before any job can block the event loop (see worker-side.ts).
      const { createSupervisedWorkerTask } = await import("./supervise/index.ts");
      m.run(
        createSupervisedWorkerTask({
          probe: {
            inFlight: () => this.jobs.inFlight(),
            lastCompletionAt: () => this.jobs.lastCompletionAt(),
            // The master serves the fleet's metrics (tend supervise --http): send ours after heartbeats.
            ...(process.env["TEND_METRICS"] === "1"
              ? { metrics: async () => (await this.metrics.getMetricsAsJSON()) as unknown[] }
              : {}),
          },
          onStop: () => void m.stop("the supervisor asked this worker to stop"),
          log: this.log,
        }),
      );
    }
    for (const task of await this.jobs.tasks()) m.run(task);
    for (const component of this.#components) {
      for (const task of await component({ store, log: this.log, manager: m, app: this })) m.run(task);
    }
    for (const { task, ephemeral } of this.#tasks) {
      if (ephemeral) m.runEphemeral(task);
      else m.run(task);
    }
  }

  /**
   * Runs the app as a program: signals (SIGINT, SIGTERM, SIGQUIT) start a graceful shutdown, a
   * second signal exits at once, and the process exits 0 on a clean shutdown, 1 when a task
   * failed, 70 when the shutdown budget ran out.
   */
  main(options: Omit<MainOptions, "log" | "shutdownTimeout"> = {}): Promise<number> {
    checkObject("TEND_E_INVALID_APP_OPTIONS", "app.main options", options, "an options object (or nothing)");
    rejectUnknownKeys("app.main options", options, APP_MAIN_KEYS, "TEND_E_INVALID_APP_OPTIONS");
    return main(
      async (manager) => {
        await this.start(manager);
      },
      { ...options, log: this.log, shutdownTimeout: this.#options.shutdownTimeout ?? "30s" },
    );
  }

  /** The admin API under /api and the dashboard at /ui, on the app's HTTP server. */
  #addDashboard(router: Router, settings: HttpSettings, store: Store): void {
    const sources: AdminSources = {
      store,
      enqueue: (kind, payload, options) => this.jobs.enqueue(kind, payload, options),
      convergers: () => this.#convergers.all(),
      queueLimits: () => this.jobs.queueLimits(),
      runCronNow: (name) => this.jobs.runCronNow(name),
      inboxes: () => this.#inboxes,
      adminToken: settings.adminToken,
      hidePayloads: settings.hidePayloads,
    };
    addDashboard(addAdminApi(router, sources), sources);
  }

  async #startHttp(settings: HttpSettings, m: Manager, store: Store): Promise<Task> {
    const { server, task } = await serveObservability({
      settings,
      registry: this.metrics,
      shutdownReason: () => m.shutdownReason,
      checkStore: () => store.verifyMigrated(),
      ...(settings.dashboard
        ? { extend: (router: Router) => this.#addDashboard(router, settings, store) }
        : {}),
      // Probes and scrapes are answered until the rest of the app has drained.
      serveWhile: () => m.tasks.some((name) => name !== "http"),
      budgetMs: this.#drainMs,
      log: this.log.child({ part: "http" }),
    });
    this.#httpServer = server;
    return task;
  }

  /** Stops the app's tasks (if started) and closes the store. */
  async close(): Promise<void> {
    if (this.#manager !== null) await this.#manager.stop("app.close() was called");
    await this.#closeStore();
  }

  async #closeStore(): Promise<void> {
    const pending = this.#store;
    this.#store = null;
    const store = await pending?.catch(() => null);
    await store?.close();
  }
}

/**
 * Creates an app. See {@link App}.
 *
 * @example
 * ```ts
 * const app = createApp();
 * app.job("hello", ({ payload }) => console.log("hello", payload));
 * await app.enqueue("hello", { name: "world" });
 * await app.main();
 * ```
 */
export function createApp(options: AppOptions = {}): App {
  return new App(options);
}
