import { isTendError } from "../errors/index.ts";

/** The checks `/readyz` makes, each `"ok"` or what failed. */
export interface ReadinessReport {
  ready: boolean;
  /** The first check that failed: `shutdown`, `store` or `migrations`. */
  failed?: "shutdown" | "store" | "migrations";
  checks: { shutdown: string; store: string; migrations: string };
  /** When the store was last checked (ISO time). */
  checkedAt?: string;
}

/** What readiness looks at. */
export interface ReadinessSources {
  /** Why shutdown began, or undefined while running. */
  shutdownReason(): string | undefined;
  /**
   * Resolves when the store answers and every migration is applied; throws
   * TEND_E_DATABASE_NOT_MIGRATED when behind, anything else when unreachable.
   */
  checkStore(): Promise<void>;
}

interface StoreResult {
  at: number;
  store: string;
  migrations: string;
}

/**
 * Readiness of an app for `/readyz`: not shutting down, the store answering within `timeoutMs`
 * and migrations current. The store check runs at most once per `cacheMs` whatever the probe
 * rate (probes from many load balancers share it), and one check runs at a time.
 *
 * @example
 * ```ts
 * const readiness = new Readiness({ shutdownReason: () => manager.shutdownReason, checkStore: () => store.verifyMigrated() });
 * const report = await readiness.report(); // { ready: true, checks: { shutdown: "ok", store: "ok", migrations: "ok" } }
 * ```
 */
export class Readiness {
  readonly #sources: ReadinessSources;
  readonly #timeoutMs: number;
  readonly #cacheMs: number;
  #last: StoreResult | null = null;
  #pending: Promise<StoreResult> | null = null;
  /** A store check that outlived its timeout and still runs: no second one starts beside it. */
  #straggler: Promise<unknown> | null = null;

  constructor(sources: ReadinessSources, options: { timeoutMs?: number; cacheMs?: number } = {}) {
    this.#sources = sources;
    this.#timeoutMs = options.timeoutMs ?? 1_000;
    this.#cacheMs = options.cacheMs ?? 1_000;
  }

  async report(): Promise<ReadinessReport> {
    const reason = this.#sources.shutdownReason();
    if (reason !== undefined) {
      return {
        ready: false,
        failed: "shutdown",
        checks: { shutdown: `shutting down: ${reason}`, store: "not checked", migrations: "not checked" },
      };
    }
    const result = await this.#storeResult();
    const failed = result.store !== "ok" ? "store" : result.migrations !== "ok" ? "migrations" : undefined;
    // Shutdown may have begun while the store was being checked.
    const late = this.#sources.shutdownReason();
    if (late !== undefined) return this.report();
    return {
      ready: failed === undefined,
      ...(failed === undefined ? {} : { failed }),
      checks: { shutdown: "ok", store: result.store, migrations: result.migrations },
      checkedAt: new Date(Date.now() - (performance.now() - result.at)).toISOString(),
    };
  }

  #storeResult(): Promise<StoreResult> {
    const last = this.#last;
    if (last !== null && performance.now() - last.at < this.#cacheMs) return Promise.resolve(last);
    if (this.#pending !== null) {
      // A check is under way: wait for it, but never longer than the timeout.
      return this.#pending;
    }
    const pending = this.#check().then((result) => {
      this.#last = result;
      this.#pending = null;
      return result;
    });
    this.#pending = pending;
    return pending;
  }

  async #check(): Promise<StoreResult> {
    if (this.#straggler !== null) {
      return {
        at: performance.now(),
        store: `no answer within ${this.#timeoutMs} ms (the last check still waits)`,
        migrations: "not checked",
      };
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#timeoutMs);
    });
    const check = this.#sources.checkStore().then(
      () => "ok" as const,
      (err: unknown) => err,
    );
    const outcome = await Promise.race([check, timeout]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      const straggler = check.finally(() => {
        if (this.#straggler === straggler) this.#straggler = null;
      });
      this.#straggler = straggler;
    }
    const at = performance.now();
    if (outcome === "ok") return { at, store: "ok", migrations: "ok" };
    if (outcome === "timeout")
      return { at, store: `no answer within ${this.#timeoutMs} ms`, migrations: "not checked" };
    if (isTendError(outcome, "TEND_E_DATABASE_NOT_MIGRATED"))
      return { at, store: "ok", migrations: outcome.message };
    return { at, store: messageOf(outcome), migrations: "not checked" };
  }
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
