import {
  checkInteger,
  checkObject,
  describeValue,
  invalidArgument,
  isArrayValue,
  optionKeys,
  rejectUnknownKeys,
  TendError,
} from "../errors/index.ts";
import type { Duration } from "../lifecycle/index.ts";
import type { WakeTable } from "../store/index.ts";
import { DEFAULT_KEY_BACKOFF, type KeyBackoff } from "./backoff.ts";
import { boundedDuration, CONVERGER_MINIMUM_MS } from "./bounds.ts";
import type { ConvergeContext, ConvergeOutcome, FindContext } from "./context.ts";
import type { Found } from "./keys.ts";

/**
 * A table whose changes wake a converger. A bare table name (or `{ table }`) makes any change of
 * a row run a sweep (`find`) soon; `{ table, key: "column" }` converges the changed row's value
 * of that column directly as a key (and tells tend the key changed, which clears a terminal
 * error). `table` may be `schema.table` on PostgreSQL.
 */
export type WakeOn = string | { table: string; key?: string };

/**
 * What an app declares with `app.converger(...)`.
 *
 * @example
 * ```ts
 * const definition: ConvergerDefinition = {
 *   name: "archive-account-resources",
 *   every: "30s",
 *   wakeOn: [{ table: "account", key: "id" }],
 *   find: async (ctx) => (await ctx.sql("SELECT id FROM account WHERE archived_at IS NOT NULL")).map((r) => r.id as number),
 *   converge: async (id, ctx) => ({ changed: await ctx.sql("UPDATE resource SET archived_at = now() WHERE account_id = $1 AND archived_at IS NULL RETURNING id", [id]) }),
 * };
 * ```
 */
export interface ConvergerDefinition {
  /** Unique within the app: 1-64 letters, digits, `.`, `_`, `-`. Names the lease, logs and inconsistencies. */
  name: string;
  /** Returns the keys of the targets worth looking at now (read-only). */
  find(ctx: FindContext): Iterable<Found> | Promise<Iterable<Found>>;
  /** Re-reads the state for `key` and makes it correct; returns what it changed, or nothing. */
  converge(key: string, ctx: ConvergeContext): ConvergeOutcome | Promise<ConvergeOutcome>;
  /** Periodic sweep interval (default `"30s"`, at least `"10ms"`). */
  every?: Duration;
  /** Tables whose changes wake the converger (see {@link WakeOn}). */
  wakeOn?: readonly WakeOn[];
  /** Keys converged at once by this converger (default 4). */
  concurrency?: number;
  /** Time limit of each `converge` and `find` call; its `ctx.signal` aborts then (default `"30s"`). */
  timeout?: Duration;
  /** Leadership lease time-to-live: a dead leader is replaced within it (default `"15s"`, at least `"1s"`). */
  leaseTtl?: Duration;
  /** Backoff of a failing key (defaults: 1 s doubling up to 5 min, ±20 % jitter). */
  backoff?: { base?: Duration; max?: Duration };
  /** SQLite only: how often the change check (`PRAGMA data_version`) runs (default `"50ms"`, at least `"10ms"`). */
  pollInterval?: Duration;
}

/** A definition with every option checked and defaulted. */
export interface NormalizedDefinition {
  name: string;
  find: ConvergerDefinition["find"];
  converge: ConvergerDefinition["converge"];
  everyMs: number;
  wakeOn: WakeTable[];
  concurrency: number;
  timeoutMs: number;
  leaseTtlMs: number;
  backoff: KeyBackoff;
  pollMs: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const DEFINITION_KEYS = optionKeys<ConvergerDefinition>({
  name: true,
  find: true,
  converge: true,
  every: true,
  wakeOn: true,
  concurrency: true,
  timeout: true,
  leaseTtl: true,
  backoff: true,
  pollInterval: true,
});
const BACKOFF_KEYS = optionKeys<NonNullable<ConvergerDefinition["backoff"]>>({ base: true, max: true });
const WAKE_KEYS = optionKeys<{ table: string; key?: string }>({ table: true, key: true });
/** SQL identifiers tend accepts in `wakeOn` (validated, then quoted). */
export const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function option(value: unknown, fallback: Duration, name: string, converger: string, minMs = 0): number {
  return boundedDuration(value ?? fallback, `converger "${converger}" ${name}`, minMs);
}

/**
 * Parses one `wakeOn` entry (a table name, `schema.table`, or `{ table, key }`), validating the
 * identifiers. Throws TEND_E_CONVERGER_INVALID_WAKE naming the entry.
 *
 * @example
 * ```ts
 * wakeTable({ table: "app.account", key: "id" }, "archive"); // { schema: "app", table: "account", key: "id" }
 * ```
 */
export function wakeTable(entry: unknown, converger: string): WakeTable {
  const raw = typeof entry === "string" ? { table: entry } : entry;
  const bad = () =>
    invalidArgument(
      "TEND_E_CONVERGER_INVALID_WAKE",
      `converger "${converger}" wakeOn entry`,
      entry,
      'a table name like "account" or "app.account", or { table, key } with lower-case SQL identifiers',
    );
  if (raw === null || typeof raw !== "object") throw bad();
  rejectUnknownKeys(`wakeOn entry of converger "${converger}"`, raw, WAKE_KEYS);
  const { table, key } = raw as { table?: unknown; key?: unknown };
  if (typeof table !== "string") throw bad();
  const parts = table.split(".");
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) throw bad();
  if (key !== undefined && (typeof key !== "string" || !IDENTIFIER.test(key))) throw bad();
  return {
    schema: parts.length === 2 ? (parts[0] ?? null) : null,
    table: parts[parts.length - 1] ?? "",
    key: key ?? null,
  };
}

/**
 * Checks a converger definition and fills in defaults. Throws a TendError naming the bad value:
 * `TEND_E_CONVERGER_INVALID_NAME`, `TEND_E_CONVERGER_INVALID_DEFINITION`,
 * `TEND_E_CONVERGER_INVALID_OPTION` or `TEND_E_CONVERGER_INVALID_WAKE`.
 *
 * @example
 * ```ts
 * const d = normalizeDefinition({ name: "x", find: () => [], converge: () => undefined });
 * d.everyMs; // 30000
 * ```
 */
export function normalizeDefinition(definition: unknown): NormalizedDefinition {
  const d = checkObject(
    "TEND_E_CONVERGER_INVALID_DEFINITION",
    "converger definition",
    definition,
    "an object { name, find, converge, ... }",
  ) as Partial<ConvergerDefinition>;
  if (typeof d.name !== "string" || !NAME.test(d.name)) {
    throw invalidArgument(
      "TEND_E_CONVERGER_INVALID_NAME",
      "converger name",
      d.name,
      "1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit",
    );
  }
  const name = d.name;
  rejectUnknownKeys(`converger definition "${name}"`, d, DEFINITION_KEYS);
  rejectUnknownKeys(`backoff of converger "${name}"`, d.backoff, BACKOFF_KEYS);
  for (const fn of ["find", "converge"] as const) {
    if (typeof d[fn] !== "function") {
      throw new TendError(
        "TEND_E_CONVERGER_INVALID_DEFINITION",
        `Converger "${name}": ${fn} is ${describeValue(d[fn])}; expected a function.`,
        { details: { converger: name, name: fn, value: d[fn] } },
      );
    }
  }
  const concurrency =
    d.concurrency === undefined
      ? 4
      : checkInteger(
          "TEND_E_CONVERGER_INVALID_OPTION",
          `converger "${name}" concurrency`,
          d.concurrency,
          1,
          1000,
        );
  if (d.wakeOn !== undefined && !isArrayValue(d.wakeOn)) {
    throw invalidArgument(
      "TEND_E_CONVERGER_INVALID_WAKE",
      `converger "${name}" wakeOn`,
      d.wakeOn,
      "an array of table names or { table, key }",
    );
  }
  const backoffBase = option(d.backoff?.base, DEFAULT_KEY_BACKOFF.baseMs, "backoff.base", name);
  const backoffMax = option(d.backoff?.max, DEFAULT_KEY_BACKOFF.maxMs, "backoff.max", name);
  return {
    name,
    find: d.find as ConvergerDefinition["find"],
    converge: d.converge as ConvergerDefinition["converge"],
    everyMs: option(d.every, "30s", "every", name, CONVERGER_MINIMUM_MS.every),
    wakeOn: (d.wakeOn ?? []).map((entry) => wakeTable(entry, name)),
    concurrency,
    timeoutMs: option(d.timeout, "30s", "timeout", name),
    leaseTtlMs: option(d.leaseTtl, "15s", "leaseTtl", name, CONVERGER_MINIMUM_MS.leaseTtl),
    backoff: { ...DEFAULT_KEY_BACKOFF, baseMs: backoffBase, maxMs: Math.max(backoffBase, backoffMax) },
    pollMs: option(d.pollInterval, "50ms", "pollInterval", name, CONVERGER_MINIMUM_MS.pollInterval),
  };
}
