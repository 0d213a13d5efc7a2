import { TendError } from "../errors/tend-error.ts";
import type { Store } from "../store/index.ts";
import type { UserDatabase } from "./context.ts";
import type { WakeTable } from "./definition.ts";

/** One recorded inconsistency: a converge call that changed something. */
export interface Inconsistency {
  id: string;
  converger: string;
  key: string;
  /** What changed, as the converger returned it. */
  changes: unknown;
  at: Date;
  /** The process that held the converger's lease, and its epoch (null for unfenced runs, e.g. tests). */
  holder: string | null;
  epoch: number | null;
}

/** Filter for {@link ConvergeStore.listInconsistencies}. */
export interface InconsistencyFilter {
  converger?: string;
  since?: Date;
  until?: Date;
  /** Most recent first; default 100. */
  limit?: number;
}

/** A fencing token: the lease holder and epoch a write is made under. */
export interface Fence {
  holder: string;
  epoch: number;
}

/** The outcome of trying to take or keep a lease. */
export type LeaseAttempt =
  | { held: true; epoch: number; expiresAt: number; now: number }
  | { held: false; holder: string; expiresAt: number; now: number };

/** A key that failed with a terminal error and is not retried until it changes. */
export interface TerminalKey {
  key: string;
  version: string | null;
  message: string;
  at: Date;
}

/** One change notification from a wakeOn table. */
export interface Wake {
  /** `schema.table` on PostgreSQL, `table` on SQLite. */
  table: string;
  /** Key column of the trigger, or "" for sweep-only triggers. */
  column: string;
  /** The changed row's key (string), or null. */
  key: string | null;
}

/** A running wake-up listener. */
export interface WakeListener {
  stop(): Promise<void>;
}

/**
 * The converge part's storage: leases, inconsistencies, terminal keys, wake-up triggers and
 * listeners, and the user's database access. One implementation per driver, in
 * src/store/<driver>/converge-store.ts.
 */
export interface ConvergeStore {
  readonly driver: "sqlite" | "postgres";
  /** Takes or renews the lease of `name` for `holder` (atomic; decided by `decideLease`). */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseAttempt>;
  /** Gives the lease up at once (expiry = now) if `fence` still holds it. */
  releaseLease(name: string, fence: Fence): Promise<void>;
  /**
   * Records inconsistencies of one converger in one statement (one commit), fenced: with a fence,
   * only if that holder and epoch still hold a live lease of `converger`; all or none. Returns
   * false when fenced out.
   */
  recordInconsistencies(
    converger: string,
    records: ReadonlyArray<{ key: string; changes: unknown }>,
    fence: Fence | null,
  ): Promise<boolean>;
  listInconsistencies(filter: InconsistencyFilter): Promise<Inconsistency[]>;
  /** Records a terminal failure of a key (fenced like recordInconsistency). */
  recordTerminal(
    converger: string,
    key: string,
    version: string | null,
    message: string,
    fence: Fence | null,
  ): Promise<boolean>;
  clearTerminal(converger: string, key: string): Promise<void>;
  listTerminal(converger: string): Promise<TerminalKey[]>;
  /** Whether a wakeOn table exists. */
  tableExists(table: WakeTable): Promise<boolean>;
  /** Whether a column of an existing table exists. */
  columnExists(table: WakeTable, column: string): Promise<boolean>;
  /**
   * Installs (idempotently) the change trigger of a wakeOn table. Returns the table as wake-ups
   * name it (`schema.table` on PostgreSQL, `table` on SQLite).
   */
  installWakeTrigger(table: WakeTable): Promise<string>;
  /**
   * Listens for changes of wakeOn tables. `onReconnect` is called when notifications may have
   * been lost (the listener reconnected), so the caller sweeps.
   */
  listenWakes(onWake: (wake: Wake) => void, onReconnect: () => void, pollMs: number): Promise<WakeListener>;
  /** The app's database for user code (ctx.sql, ctx.transaction, ctx.db / ctx.pool). */
  readonly access: UserDatabase;
  /** Closes what this converge store opened (not the Store). */
  close(): Promise<void>;
}

const cache = new WeakMap<Store, Promise<ConvergeStore>>();

/**
 * The converge storage of a Store, created once per Store and shared by every converger of the
 * app. Its tables come with the Store's migrations (component "converge").
 *
 * @example
 * ```ts
 * const store = await openStore("sqlite:./var/tend.db");
 * const converge = await convergeStoreFor(store);
 * console.log(await converge.listInconsistencies({ converger: "archive-account-resources" }));
 * ```
 */
export function convergeStoreFor(store: Store): Promise<ConvergeStore> {
  let found = cache.get(store);
  if (found === undefined) {
    found = create(store);
    cache.set(store, found);
  }
  return found;
}

async function create(store: Store): Promise<ConvergeStore> {
  const raw = store.raw;
  if (raw.driver === "sqlite") {
    const { SqliteConvergeStore } = await import("../store/sqlite/converge-store.ts");
    return new SqliteConvergeStore(raw);
  }
  if (raw.driver === "postgres") {
    const { PostgresConvergeStore } = await import("../store/postgres/converge-store.ts");
    return new PostgresConvergeStore(raw, store.notifier);
  }
  throw new TendError(
    "TEND_E_CONVERGER_UNSUPPORTED_STORE",
    `Convergers need an SQLite or PostgreSQL store; got driver ${JSON.stringify((raw as { driver?: unknown }).driver)}.`,
  );
}
