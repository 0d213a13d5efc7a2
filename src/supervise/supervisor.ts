import { EventEmitter, once } from "node:events";
import { hostname } from "node:os";
import { TendError } from "../errors/index.ts";
import type { Task } from "../lifecycle/index.ts";
import { createLogger, type Logger } from "../log/index.ts";
import type { FleetStore, MasterRecord, RescuedJob, Store } from "../store/index.ts";
import { SUPERVISOR_CHANNELS as CH } from "./channels.ts";
import { callCrashHook } from "./crash-hook.ts";
import type { FleetMember } from "./fleet-share.ts";
import { judgeWorker } from "./health.ts";
import { type ResolvedOptions, resolveOptions, type SuperviseOptions } from "./options.ts";
import { blameFor, type KillProblem, RestartBook } from "./restart.ts";
import { Scaler } from "./scaler.ts";
import { SpareKeeper, SpareProcess } from "./spare.ts";
import { SUPERVISE_ENV } from "./protocol.ts";
import { StatusWriter, type SupervisorStatus } from "./status.ts";
import { workerEnv } from "./worker-env.ts";
import { type WorkerExit, WorkerProcess } from "./worker-process.ts";

/** The longest a killed worker's replacement waits for its rescue to say whom to blame. */
const BLAME_WAIT_MS = 5_000;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * The master: runs the program's worker mode in N child processes, scales N from the queue
 * statistics in the store, replaces hung, stalled and dead workers (rescuing their jobs at once),
 * restarts with backoff under a restart intensity, stops workers gracefully, rolls them on demand,
 * and keeps a status file. Events: `worker-started`, `worker-ready`, `worker-exit`,
 * `worker-killed`, `scaled`, `rescued`, `gave-up`, `change`.
 *
 * @example
 * ```ts
 * const sup = createSupervisor({ program: "./app.ts", min: 1, max: 8, database: "sqlite:./var/tend.db" });
 * const ac = new AbortController();
 * process.once("SIGTERM", () => ac.abort());
 * await sup.run(ac.signal);
 * ```
 */
export class Supervisor extends EventEmitter {
  readonly options: ResolvedOptions;
  /** The logger given (or made), for the store this supervisor opens, which names its own part. */
  readonly #baseLog: Logger;
  readonly #log: Logger;
  readonly #workers = new Map<string, WorkerProcess>();
  readonly #idPrefix: string;
  #desired: number;
  #seq = 0;
  readonly #restarts: RestartBook;
  #state: SupervisorStatus["state"] = "starting";
  #startedAt = Date.now();
  #gaveUp: TendError | null = null;
  #wakeStop: (() => void) | null = null;
  #store: Store | undefined;
  readonly #statusWriter: StatusWriter | null;
  #rolling: Promise<void> | null = null;
  #rollActive = false;
  /** Bumped by every rolling restart: a worker started at an older generation runs old code. */
  #generation = 0;
  /** Generation each live worker was started at. */
  readonly #generations = new WeakMap<WorkerProcess, number>();
  /** Why the master killed a worker (hung, stalled, start timeout). */
  readonly #killedFor = new WeakMap<WorkerProcess, KillProblem>();
  #pendingRescues = new Set<Promise<unknown>>();
  /**
   * Workers killed by this master whose failure is not counted yet (it waits for their rescue,
   * which decides whom to blame): no replacement starts meanwhile, so that the backoff their
   * failure adds applies to their own replacement.
   */
  #awaitingBlame = 0;
  #reconcileTimer: NodeJS.Timeout | null = null;
  readonly #spare: SpareKeeper;
  readonly #scaler: Scaler;
  /** The masters sharing this database (PostgreSQL), or null. */
  #fleet: FleetStore | null = null;
  /** The fleet as last read (every registered master). */
  #fleetView: Array<MasterRecord & { alive: boolean }> = [];
  #fleetFailing = false;

  constructor(options: SuperviseOptions) {
    super();
    this.options = resolveOptions(options);
    this.#baseLog = options.log ?? createLogger();
    this.#log = this.#baseLog.child({ part: "supervise" });
    this.#desired = this.options.min;
    this.#store = this.options.store;
    this.#idPrefix = `${hostname()}:${process.pid}.${Date.now().toString(36)}`;
    this.#restarts = new RestartBook(this.options.restart);
    this.#spare = new SpareKeeper(() =>
      this.#log.warn("spare processes keep failing to boot; workers will start cold"),
    );
    const { min, max, queues, scaling: settings } = this.options;
    this.#scaler = new Scaler({ min, max, queues, settings, log: this.#log });
    const path = this.options.statusFile;
    this.#statusWriter =
      path === null
        ? null
        : new StatusWriter(
            path,
            () => this.status(),
            (err) => this.#log.warn({ err, path }, "cannot write the supervisor status file"),
          );
  }

  /** The master as a lifecycle Task (name `supervise.master`). */
  task(): Task {
    return { name: "supervise.master", run: (signal) => this.run(signal) };
  }

  /** The current target count. */
  get desired(): number {
    return this.#desired;
  }

  /** True when a booted spare waits to become the next worker (a replacement then starts warm). */
  get spareReady(): boolean {
    return this.#spare.ready;
  }

  /** The last metrics snapshot of each ready worker that sends them (prom-client JSON). */
  workerMetrics(): unknown[][] {
    const out: unknown[][] = [];
    for (const w of this.#workers.values())
      if (w.state === "ready" && w.metrics !== null) out.push(w.metrics);
    return out;
  }

  /** Live workers (not exited), oldest first. */
  workers(): WorkerProcess[] {
    return [...this.#workers.values()];
  }

  /**
   * Runs until `signal` aborts (then stops every worker gracefully and resolves) or until the
   * restart intensity is exceeded (then stops the rest and throws TEND_E_SUPERVISE_GAVE_UP).
   */
  async run(signal: AbortSignal): Promise<void> {
    const o = this.options;
    if (this.#state !== "starting") {
      throw new TendError(
        "TEND_E_SUPERVISE_INVALID_OPTION",
        "This supervisor has already run; create a new one.",
        {
          details: { state: this.#state },
        },
      );
    }
    let ownStore = false;
    if (this.#store === undefined && o.database !== undefined) {
      const { openStore } = await import("../store/index.ts");
      this.#store = await openStore(o.database, { log: this.#baseLog });
      ownStore = true;
    }
    if (this.#store !== undefined) {
      const { fleetStore } = await import("../store/index.ts");
      this.#fleet = await fleetStore(this.#store);
    }
    this.#state = "running";
    this.#startedAt = Date.now();
    this.#log.info(
      { program: o.program, min: o.min, max: o.max, statusFile: o.statusFile },
      "supervisor started",
    );
    const tick = setInterval(() => this.#tick(), Math.min(100, o.heartbeatMs));
    const scale = setInterval(() => void this.#scale(), o.scaleIntervalMs);
    const status = setInterval(() => this.#statusChanged(), o.statusIntervalMs);
    try {
      this.#reconcile();
      void this.#scale();
      await new Promise<void>((resolve) => {
        this.#wakeStop = resolve;
        if (signal.aborted) resolve();
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    } finally {
      clearInterval(tick);
      clearInterval(scale);
      if (this.#reconcileTimer !== null) clearTimeout(this.#reconcileTimer);
      if (this.#state === "running") this.#state = "stopping";
      this.#spare.drop();
      this.#statusChanged();
      this.#log.info({ workers: this.#workers.size }, "stopping all workers gracefully");
      await Promise.all(
        this.workers().map((w) => w.stop("supervisor stopping", o.killTimeoutMs, o.termGraceMs)),
      );
      await Promise.allSettled([...this.#pendingRescues]);
      clearInterval(status);
      if (this.#state === "stopping") this.#state = "stopped";
      await this.#statusWriter?.request();
      // A clean stop leaves the fleet at once: the others take over its share without waiting for its lease.
      await this.#fleet?.remove(this.#idPrefix).catch((err: unknown) => {
        this.#log.warn({ err }, "could not remove this master from the fleet table; its lease will lapse");
      });
      if (ownStore) await this.#store?.close();
      this.#log.info({ state: this.#state }, "supervisor stopped");
    }
    if (this.#gaveUp !== null) throw this.#gaveUp;
  }

  /**
   * Rolling restart: replaces every current worker one by one with a fresh process (new code on
   * disk) without dropping below the current count: start a new one, wait until it is ready,
   * then stop the old one gracefully. A call during a roll makes that roll go on until every
   * worker started before this call is replaced as well (those it already started included), so
   * the fleet always ends on the code on disk at the last call; the returned promise resolves
   * then. The spare, booted from the code on disk before the call, is dropped.
   */
  rollingRestart(): Promise<void> {
    this.#generation++;
    // The spare loaded tend's modules from the old code on disk: start the new workers fresh.
    this.#spare.drop();
    if (this.#rollActive && this.#rolling !== null) {
      this.#log.info(
        { generation: this.#generation },
        "rolling restart requested during a rolling restart: every worker started before now will be replaced too",
      );
      return this.#rolling;
    }
    const roll = this.#roll();
    // A roll with nothing to do has already finished (and cleared #rolling) by now.
    if (this.#rollActive) this.#rolling = roll;
    return roll;
  }

  /** The oldest live worker started before the latest rolling restart, if any. */
  #outdated(): WorkerProcess | undefined {
    return this.workers().find(
      (w) =>
        !w.planned &&
        !w.retiring &&
        w.state !== "exited" &&
        (this.#generations.get(w) ?? 0) < this.#generation,
    );
  }

  async #roll(): Promise<void> {
    this.#rollActive = true;
    try {
      this.#log.info(
        { workers: this.workers().filter((w) => !w.planned && w.state !== "exited").length },
        "rolling restart: replacing workers one by one",
      );
      for (;;) {
        if (this.#state !== "running") return;
        const old = this.#outdated();
        if (old === undefined) break;
        const before = new Set(this.#workers.keys());
        old.retiring = true;
        this.#statusChanged();
        this.#reconcile();
        while (this.#state === "running" && old.exitInfo === null) {
          const fresh = this.workers().some((w) => !before.has(w.id) && w.state === "ready" && !w.retiring);
          if (fresh) break;
          await once(this, "change");
        }
        if (this.#state !== "running") return;
        await old.stop("rolling restart", this.options.killTimeoutMs, this.options.termGraceMs);
      }
      this.#log.info({ generation: this.#generation }, "rolling restart finished");
    } finally {
      // Cleared in the same tick as the last check, so that a later call starts a new roll.
      this.#rollActive = false;
      this.#rolling = null;
    }
  }

  /** The status view (what the status file holds). */
  status(): SupervisorStatus {
    const now = Date.now();
    const o = this.options;
    return {
      version: 1,
      masterPid: process.pid,
      program: o.program,
      state: this.#state,
      startedAt: new Date(this.#startedAt).toISOString(),
      updatedAt: new Date(now).toISOString(),
      min: o.min,
      max: o.max,
      desired: this.#desired,
      restartsTotal: this.#restarts.total,
      restartsInWindow: this.#restarts.inWindow(now),
      maxRestarts: o.restart.maxRestarts,
      restartPeriodMs: o.restart.periodMs,
      queue: this.#scaler.lastStats,
      lastScale: this.#scaler.lastChange,
      sparePid: this.#spare.pid,
      workers: this.workers().map((w) => ({
        id: w.id,
        slot: w.slot,
        pid: w.pid,
        state: w.state,
        retiring: w.retiring,
        startedAt: new Date(w.startedAt).toISOString(),
        uptimeMs: now - w.startedAt,
        restarts: this.#restarts.forSlot(w.slot),
        inFlight: w.inFlight,
        lastHeartbeatAt: iso(w.lastHeartbeatAt),
        lastCompletionAt: iso(w.lastCompletionAt),
      })),
      ...(this.#fleet === null
        ? {}
        : {
            fleet: this.#fleetView.map((m) => ({
              id: m.id,
              host: m.host,
              pid: m.pid,
              alive: m.alive,
              desired: m.desired,
              workers: m.workers.length,
            })),
          }),
    };
  }

  #active(): WorkerProcess[] {
    return this.workers().filter((w) => w.state !== "exited" && !w.planned && !w.retiring);
  }

  /**
   * How many workers are on their way: spawned and not ready yet. The scaling policy counts them
   * so that one long wait adds one worker per start. Slots held back by the restart backoff (a
   * worker that keeps failing to start) are not on their way: they do not hold the waiting rule
   * back.
   */
  #notReady(): number {
    return this.#active().filter((w) => w.state === "starting").length;
  }

  #reconcile(): void {
    if (this.#state !== "running") return;
    const active = this.#active();
    const now = Date.now();
    if (active.length < this.#desired) {
      // A killed worker's failure is counted once its rescue says whom to blame (see #onExit).
      if (this.#awaitingBlame > 0) return;
      const notBefore = this.#restarts.notBefore;
      if (now < notBefore) {
        if (this.#reconcileTimer === null) {
          this.#reconcileTimer = setTimeout(() => {
            this.#reconcileTimer = null;
            this.#reconcile();
          }, notBefore - now);
        }
        return;
      }
      for (let i = active.length; i < this.#desired; i++) this.#start();
    } else if (active.length > this.#desired) {
      // Stop the least busy, newest first: a starting worker has nothing to lose.
      const extra = active
        .sort((a, b) => a.inFlight - b.inFlight || b.startedAt - a.startedAt)
        .slice(0, active.length - this.#desired);
      for (const w of extra) {
        this.#log.info({ workerId: w.id, pid: w.pid }, "scaling down: stopping worker gracefully");
        void w.stop("scale down", this.options.killTimeoutMs, this.options.termGraceMs);
      }
      this.#statusChanged();
    }
  }

  #freeSlot(): number {
    const used = new Set(
      this.workers()
        .filter((w) => !w.retiring && !w.planned)
        .map((w) => w.slot),
    );
    let slot = 0;
    while (used.has(slot)) slot++;
    return slot;
  }

  /** Keeps one spare booted while the fleet is calm (not while workers are starting). */
  #ensureSpare(): void {
    const o = this.options;
    if (!o.spare || this.#state !== "running" || this.workers().some((w) => w.state === "starting")) return;
    const env = workerEnv(o, process.env, process.pid);
    this.#spare.ensure(() =>
      SpareProcess.spawn({ program: o.program, execArgv: o.execArgv, env, stdio: o.stdio }),
    );
  }

  #start(): void {
    const o = this.options;
    const id = `${this.#idPrefix}:w${++this.#seq}`;
    const slot = this.#freeSlot();
    const spec = {
      id,
      slot,
      program: o.program,
      args: o.args,
      execArgv: o.execArgv,
      env: {
        ...workerEnv(this.options, process.env, process.pid),
        [SUPERVISE_ENV.slotRestarts]: String(this.#restarts.forSlot(slot)),
      },
      stdio: o.stdio,
      log: this.#log,
    };
    const spare = this.#spare.take();
    const w = spare === null ? WorkerProcess.spawn(spec) : WorkerProcess.adopt(spec, spare);
    this.#workers.set(id, w);
    this.#generations.set(w, this.#generation);
    this.#log.debug({ workerId: id, pid: w.pid, fromSpare: spare !== null }, "worker started");
    w.once("ready", () => {
      const readyMs = Date.now() - w.startedAt;
      this.#log.info({ workerId: id, pid: w.pid, readyMs }, "worker ready");
      if (CH.workerReady.hasSubscribers)
        CH.workerReady.publish({ workerId: id, pid: w.pid, slot: w.slot, readyMs });
      this.emit("worker-ready", w);
      this.#statusChanged();
    });
    w.on("heartbeat", () => this.emit("heartbeat", w));
    w.once("exit", (exit: WorkerExit) => this.#onExit(w, exit));
    if (CH.workerSpawned.hasSubscribers)
      CH.workerSpawned.publish({ workerId: id, pid: w.pid, slot: w.slot, fromSpare: spare !== null });
    this.emit("worker-started", w);
    this.#statusChanged();
  }

  #onExit(w: WorkerProcess, exit: WorkerExit): void {
    this.#workers.delete(w.id);
    const failed = !exit.planned;
    const how = exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
    if (CH.workerExited.hasSubscribers) {
      CH.workerExited.publish({
        workerId: w.id,
        pid: w.pid,
        slot: w.slot,
        exitCode: exit.code,
        signal: exit.signal,
        planned: exit.planned,
        uptimeMs: exit.uptimeMs,
        reason: exit.stopReason,
      });
    }
    if (failed) this.#reportCrash(w, exit, how);
    const rescued = exit.stoppedCleanly
      ? Promise.resolve([])
      : this.#rescue(w.id, exit.stopReason ?? `worker exited unexpectedly (${how})`);
    if (failed && this.#state === "running") {
      const reason = exit.stopReason ?? `exited with ${how}`;
      const killedFor = this.#killedFor.get(w) ?? null;
      if (killedFor !== null) {
        // Killed while it may have held jobs: whom to blame depends on what the rescue finds.
        const inFlight = w.inFlight;
        this.#awaitingBlame++;
        let counted = false;
        const blamed = (): void => {
          if (counted) return;
          counted = true;
          clearTimeout(bound);
          this.#awaitingBlame--;
          this.#reconcile();
        };
        // A rescue that hangs (the database unreachable) holds the replacement back no longer.
        const bound = setTimeout(blamed, BLAME_WAIT_MS);
        bound.unref();
        const p = rescued
          .then((jobs) =>
            this.#recordFailure(
              w,
              exit,
              reason,
              blameFor({ killedFor, rescued: jobs?.length ?? null, inFlight }),
              jobs,
            ),
          )
          .finally(() => {
            this.#pendingRescues.delete(p);
            blamed();
          });
        this.#pendingRescues.add(p);
      } else {
        this.#recordFailure(w, exit, reason, "worker", null);
      }
    }
    this.emit("worker-exit", w, exit);
    this.#statusChanged();
    this.#reconcile();
  }

  /** Tells the error hook of a worker that died unexpectedly. */
  #reportCrash(w: WorkerProcess, exit: WorkerExit, how: string): void {
    const hook = this.options.onError;
    if (hook === undefined) return;
    const problem = this.#killedFor.get(w);
    const error = new TendError(
      "TEND_E_SUPERVISE_WORKER_DIED",
      `Worker ${w.id} (pid ${w.pid}) exited unexpectedly with ${how} after ${exit.uptimeMs} ms${problem === undefined ? "" : ` (killed by the master: ${problem})`}; the master replaces it and rescues its jobs.`,
      {
        details: {
          workerId: w.id,
          pid: w.pid,
          code: exit.code,
          signal: exit.signal,
          problem: problem ?? null,
        },
      },
    );
    callCrashHook(
      hook,
      error,
      {
        part: "supervise",
        event: "worker.crashed",
        workerId: w.id,
        pid: w.pid,
        exitCode: exit.code,
        signal: exit.signal,
        uptimeMs: exit.uptimeMs,
        ...(problem === undefined ? {} : { problem }),
      },
      this.#log,
    );
  }

  /**
   * Counts one failed worker: toward the restart intensity (and the backoff) when it is the
   * worker's fault, else as a job fault only (see blameFor in restart.ts).
   */
  #recordFailure(
    w: WorkerProcess,
    exit: WorkerExit,
    reason: string,
    blame: "worker" | "jobs",
    jobs: RescuedJob[] | null,
  ): void {
    if (this.#state !== "running") return;
    const details = {
      workerId: w.id,
      pid: w.pid,
      code: exit.code,
      signal: exit.signal,
      uptimeMs: exit.uptimeMs,
    };
    const replaced = (): void => {
      if (CH.workerReplaced.hasSubscribers)
        CH.workerReplaced.publish({ workerId: w.id, pid: w.pid, slot: w.slot, reason, blame });
    };
    if (blame === "jobs") {
      this.#restarts.recordJobFault(w.slot);
      replaced();
      this.#log.warn(
        { ...details, jobs: jobs?.map((j) => j.id) ?? [] },
        `worker killed while running jobs (${reason}); replacing it. Blamed on its jobs, not counted toward the restart intensity: each such loss counts against the job, which is discarded as poisoned at its maxLost`,
      );
      this.#statusChanged();
      return;
    }
    const wasStart = w.readyAt === null;
    const decision = this.#restarts.record(Date.now(), exit.uptimeMs, w.slot);
    this.#log.warn(
      { ...details, failedStart: wasStart },
      `worker ${wasStart ? "failed to start" : "died"} (${reason}); replacing it`,
    );
    if (decision.exceeded) this.#giveUp(reason);
    else replaced();
    this.#statusChanged();
  }

  /** Rescues a dead worker's jobs; resolves with them (null when there is no store or it failed). */
  #rescue(workerId: string, reason: string): Promise<RescuedJob[] | null> {
    const store = this.#store;
    if (store === undefined) return Promise.resolve(null);
    const p = store.jobs
      .rescueWorker(workerId, reason)
      .then((jobs) => {
        if (jobs.length > 0)
          this.#log.warn(
            { workerId, jobs: jobs.map((j) => j.id), reason },
            "rescued the jobs of a dead worker",
          );
        const poisoned = jobs.filter((j) => j.poisoned);
        if (poisoned.length > 0)
          this.#log.error(
            { workerId, jobs: poisoned.map((j) => j.id), kinds: [...new Set(poisoned.map((j) => j.kind))] },
            "discarded poison jobs (TEND_E_JOB_POISONED): their workers died or hung maxLost times while running them; fix them, then `tend jobs retry <id>`",
          );
        this.emit("rescued", workerId, jobs);
        return jobs;
      })
      .catch((err: unknown): null => {
        this.#log.error(
          { err, workerId },
          "could not rescue the jobs of a dead worker; their leases will expire instead",
        );
        return null;
      })
      .finally(() => this.#pendingRescues.delete(p));
    this.#pendingRescues.add(p);
    return p;
  }

  #giveUp(lastReason: string): void {
    const r = this.options.restart;
    const message =
      `Giving up: workers were restarted ${this.#restarts.inWindow(Date.now())} times within ${r.periodMs} ms ` +
      `(restart intensity allows ${r.maxRestarts}). Last failure: ${lastReason}. ` +
      "Stopping the remaining workers and exiting non-zero; fix the program (see the worker logs above) and start again.";
    this.#gaveUp = new TendError("TEND_E_SUPERVISE_GAVE_UP", message, {
      details: {
        restarts: this.#restarts.inWindow(Date.now()),
        maxRestarts: r.maxRestarts,
        periodMs: r.periodMs,
        lastReason,
      },
    });
    this.#log.error({ code: "TEND_E_SUPERVISE_GAVE_UP" }, message);
    this.#state = "gave-up";
    this.emit("gave-up", this.#gaveUp);
    this.#wakeStop?.();
  }

  #tick(): void {
    const now = Date.now();
    const o = this.options;
    for (const w of this.workers()) {
      if (w.state === "exited" || w.killedAt !== null) continue;
      const v = judgeWorker(w.progress(), now, o);
      if (v.ok) continue;
      this.#log.warn(
        { workerId: w.id, pid: w.pid, problem: v.problem },
        `killing worker (SIGKILL to its process group): ${v.reason}`,
      );
      this.#killedFor.set(w, v.problem);
      if (CH.workerHung.hasSubscribers)
        CH.workerHung.publish({
          workerId: w.id,
          pid: w.pid,
          slot: w.slot,
          problem: v.problem,
          reason: v.reason,
        });
      this.emit("worker-killed", w, v.problem, v.reason);
      void w.kill(`${v.problem}: ${v.reason}`);
    }
    this.#reconcile();
    this.#ensureSpare();
  }

  async #scale(): Promise<void> {
    const store = this.#store;
    if (this.#state !== "running" || store === undefined) return;
    const fleet = await this.#fleetMembers();
    // min = max leaves nothing to decide, alone or in a fleet (a master's share stays within its
    // own min and max): no queue statistics are read, a query a second that the database and the
    // workers pay for. The fleet row above is still renewed, for the other masters.
    if (this.options.min === this.options.max) return;
    const change = await this.#scaler.evaluate(
      store,
      { current: this.#desired, starting: this.#notReady() },
      fleet === null ? undefined : { me: this.#idPrefix, members: fleet },
    );
    if (change === null || this.#state !== "running") return;
    this.#desired = change.to;
    if (CH.scale.hasSubscribers)
      CH.scale.publish({ from: change.from, to: change.to, reason: change.reason });
    this.emit("scaled", change.from, change.to, change.reason);
    this.#reconcile();
    this.#statusChanged();
  }

  /** The fleet as last read from the database (PostgreSQL; empty otherwise). */
  get fleet(): ReadonlyArray<MasterRecord & { alive: boolean }> {
    return this.#fleetView;
  }

  /**
   * Renews this master's row in the fleet table and reads the live masters (itself included), or
   * null when there is no fleet table or it cannot be read (then this master scales alone).
   */
  async #fleetMembers(): Promise<FleetMember[] | null> {
    const fleet = this.#fleet;
    if (fleet === null) return null;
    const o = this.options;
    const me: FleetMember = { id: this.#idPrefix, min: o.min, max: o.max, desired: this.#desired };
    try {
      await fleet.heartbeat(
        {
          ...me,
          host: hostname(),
          pid: process.pid,
          program: o.program,
          workers: this.workers().map((w) => ({
            id: w.id,
            pid: w.pid,
            state: w.state,
            inFlight: w.inFlight,
            restarts: this.#restarts.forSlot(w.slot),
          })),
        },
        o.masterLeaseMs,
      );
      this.#fleetView = await fleet.masters();
      if (this.#fleetFailing) this.#log.info("fleet table readable again");
      this.#fleetFailing = false;
    } catch (err) {
      if (!this.#fleetFailing) this.#log.warn({ err }, "cannot renew or read the fleet table; scaling alone");
      this.#fleetFailing = true;
      return null;
    }
    const others = this.#fleetView.filter((m) => m.alive && m.id !== me.id);
    return [me, ...others.map((m) => ({ id: m.id, min: m.min, max: m.max, desired: m.desired }))];
  }

  #statusChanged(): void {
    this.emit("change");
    void this.#statusWriter?.request();
  }
}

/**
 * Validates the options and creates a {@link Supervisor} (nothing starts until `run`).
 *
 * @example
 * ```ts
 * const sup = createSupervisor({ program: "./app.ts", min: 1, max: 4 });
 * ```
 */
export function createSupervisor(options: SuperviseOptions): Supervisor {
  return new Supervisor(options);
}
