import type pg from "pg";
import { TendError } from "../../errors/index.ts";
import type { InsertResult, NewJob } from "../job-model.ts";
import type { CallerTransaction } from "../job-store.ts";
import { callerClient } from "./caller-tx.ts";
import { hasDependencies } from "../dependencies.ts";
import { BLOCKING, PENDING, type PgContext } from "./context.ts";
import { insertWithDependencies } from "./dependencies.ts";
import { columns } from "./insert-columns.ts";

function inputCte(ctx: PgContext): string {
  return `input AS MATERIALIZED (
    SELECT nextval('${ctx.jobs}_id_seq') AS id, t.*
    FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::int[], $7::text[], $8::text[], $9::int[], $10::int[], $11::text[], $12::text[], $13::int[], $14::text[], $15::int[], $16::int[])
      WITH ORDINALITY AS t(kind, queue, payload, priority, run_at, max_attempts, unique_key, batch_id, batch_index, max_lost, trace_context,
        concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period_ms, ord)
  )`;
}

function insertSelect(ctx: PgContext): string {
  return `INSERT INTO ${ctx.jobs} (id, kind, queue, payload, priority, state, run_at, max_attempts, unique_key, batch_id, batch_index, max_lost, trace_context,
      concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period_ms)
    SELECT id, kind, queue, payload::jsonb, priority,
      CASE WHEN run_at > statement_timestamp() THEN 'scheduled' ELSE 'available' END,
      run_at, max_attempts, unique_key, batch_id, batch_index, max_lost, trace_context,
      concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period_ms
    FROM input ORDER BY ord`;
}

/** Ids pre-assigned in input order; every row inserted (no unique keys in the batch). */
function plainSql(ctx: PgContext): string {
  return `WITH ${inputCte(ctx)}, ins AS (${insertSelect(ctx)})
    SELECT id::text AS id FROM input ORDER BY ord`;
}

/** With unique keys: skipped rows report the holder visible to the statement's snapshot. */
function uniqueSql(ctx: PgContext): string {
  return `WITH ${inputCte(ctx)}, ins AS (${insertSelect(ctx)}
      ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ${BLOCKING} DO NOTHING
      RETURNING id)
    SELECT i.id::text AS id, (ins.id IS NOT NULL) AS inserted, held.id::text AS held_id
    FROM input i
    LEFT JOIN ins ON ins.id = i.id
    LEFT JOIN ${ctx.jobs} held ON ins.id IS NULL AND held.unique_key = i.unique_key AND held.state IN ${BLOCKING}
    ORDER BY i.ord`;
}

interface UniqueRow {
  id: string;
  inserted: boolean;
  held_id: string | null;
}

/**
 * Inserts jobs in one statement (unnest arrays), optionally on the caller's transaction.
 * Later duplicates of a unique key inside one call report the first one's id.
 *
 * @example
 * ```ts
 * const results = await insertJobs(ctx, jobs, undefined);
 * ```
 */
export async function insertJobs(
  ctx: PgContext,
  jobs: readonly NewJob[],
  tx: CallerTransaction | undefined,
): Promise<InsertResult[]> {
  // Jobs with parents go one by one through the dependency path (dependencies.ts).
  if (hasDependencies(jobs)) return insertWithDependencies(ctx, jobs, tx, insertJobs);
  const client = tx === undefined ? undefined : callerClient(tx);
  if (jobs.length === 0) return [];
  const query = async <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) =>
    client === undefined ? ctx.run<R>(name, text, values) : client.query<R>(text, values);

  if (jobs.every((j) => j.uniqueKey === null)) {
    const { rows } = await query<{ id: string }>("insert", plainSql(ctx), columns(jobs));
    return rows.map((r) => ({ id: r.id, inserted: true, outcome: "inserted" }));
  }
  if (jobs.some((j) => j.uniqueMode === "debounce" || j.uniqueMode === "throttle")) {
    return insertWithModes(ctx, jobs, query);
  }

  const results: Array<InsertResult | undefined> = new Array(jobs.length);
  let todo = jobs.map((_, i) => i);
  for (let round = 0; todo.length > 0; round++) {
    if (round >= 5) {
      throw new TendError(
        "TEND_E_INVALID_STORE_ARGUMENT",
        "Inserting jobs with unique keys kept racing with jobs that finished meanwhile; retry the call.",
        { details: { uniqueKeys: todo.map((i) => jobs[i]?.uniqueKey) } },
      );
    }
    const batch = todo.map((i) => jobs[i]!);
    const { rows } = await query<UniqueRow>("insert_unique", uniqueSql(ctx), columns(batch));
    const firstByKey = new Map<string, string>();
    const unresolved: number[] = [];
    rows.forEach((row, k) => {
      const index = todo[k]!;
      const key = jobs[index]!.uniqueKey;
      if (row.inserted) {
        results[index] = { id: row.id, inserted: true, outcome: "inserted" };
        if (key !== null && !firstByKey.has(key)) firstByKey.set(key, row.id);
        return;
      }
      const holder = row.held_id ?? (key === null ? undefined : firstByKey.get(key));
      if (holder === undefined) unresolved.push(index);
      else results[index] = { id: holder, inserted: false, outcome: "kept" };
    });
    if (unresolved.length === 0) break;
    // The holder committed after this statement's snapshot began: look it up now.
    const keys = [...new Set(unresolved.map((i) => jobs[i]!.uniqueKey!))];
    const held = await query<{ id: string; unique_key: string }>(
      "insert_holders",
      `SELECT id::text AS id, unique_key FROM ${ctx.jobs} WHERE unique_key = ANY($1::text[]) AND state IN ${BLOCKING}`,
      [keys],
    );
    const holders = new Map(held.rows.map((r) => [r.unique_key, r.id]));
    todo = [];
    for (const index of unresolved) {
      const holder = holders.get(jobs[index]!.uniqueKey!) ?? firstByKey.get(jobs[index]!.uniqueKey!);
      if (holder === undefined)
        todo.push(index); // the holder finished meanwhile: insert again
      else results[index] = { id: holder, inserted: false, outcome: "kept" };
    }
  }
  return results as InsertResult[];
}

/**
 * With `debounce` or `throttle` jobs: a pending holder of the key is updated (payload, and runAt
 * for debounce) by the UPDATE, the other jobs go through the INSERT, and skipped rows report the
 * holder visible to the statement's snapshot. $17 holds the modes, $18 the jobs channel (a
 * debounced holder that became runnable now wakes its queue's workers).
 */
function modesSql(ctx: PgContext): string {
  const input = inputCte(ctx)
    .replace("$16::int[])", "$16::int[], $17::text[])")
    .replace("rate_period_ms, ord)", "rate_period_ms, mode, ord)");
  return `WITH ${input},
    upd AS (
      UPDATE ${ctx.jobs} j SET payload = i.payload::jsonb,
        run_at = CASE WHEN i.mode = 'debounce' THEN i.run_at ELSE j.run_at END,
        state = CASE WHEN i.mode <> 'debounce' OR j.state = 'retryable' THEN j.state
          WHEN i.run_at > statement_timestamp() THEN 'scheduled' ELSE 'available' END
      FROM input i
      WHERE i.mode IN ('debounce', 'throttle') AND j.unique_key = i.unique_key
        AND j.state IN ${PENDING}
      RETURNING j.id AS held_id, i.ord, j.queue, j.state
    ),
    ins AS (${insertSelect(ctx).replace("FROM input ORDER BY ord", "FROM input WHERE ord NOT IN (SELECT ord FROM upd) ORDER BY ord")}
      ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ${BLOCKING} DO NOTHING
      RETURNING id),
    woken AS (SELECT pg_notify($18, q.queue) FROM (SELECT DISTINCT queue FROM upd WHERE state = 'available') q)
    SELECT i.id::text AS id, (ins.id IS NOT NULL) AS inserted, upd.held_id::text AS replaced_id,
      held.id::text AS held_id, held.state AS held_state, (SELECT count(*) FROM woken) AS n
    FROM input i
    LEFT JOIN ins ON ins.id = i.id
    LEFT JOIN upd ON upd.ord = i.ord
    LEFT JOIN ${ctx.jobs} held ON ins.id IS NULL AND upd.ord IS NULL
      AND held.unique_key = i.unique_key AND held.state IN ${BLOCKING}
    ORDER BY i.ord`;
}

interface ModesRow {
  id: string;
  inserted: boolean;
  replaced_id: string | null;
  held_id: string | null;
  held_state: string | null;
}

type Query = <R extends pg.QueryResultRow>(
  name: string,
  text: string,
  values: unknown[],
) => Promise<pg.QueryResult<R>>;

/**
 * Inserts jobs of which some replace a pending holder of their key (`debounce`, `throttle`). Each
 * statement holds a key at most once, so a call naming one key several times acts as that many
 * enqueues in input order (each one sees the one before). A job whose outcome the statement cannot
 * tell (its holder committed, started or finished after the statement's snapshot began) goes again
 * in a new statement, and so do the later jobs of its key, which keeps their order.
 */
async function insertWithModes(
  ctx: PgContext,
  jobs: readonly NewJob[],
  query: Query,
): Promise<InsertResult[]> {
  const results: Array<InsertResult | undefined> = new Array(jobs.length);
  let todo = jobs.map((_, i) => i);
  for (let pass = 0; todo.length > 0; pass++) {
    if (pass >= 8) {
      throw new TendError(
        "TEND_E_INVALID_STORE_ARGUMENT",
        "Inserting jobs with unique keys kept racing with jobs that started or finished meanwhile; retry the call.",
        { details: { uniqueKeys: todo.map((i) => jobs[i]?.uniqueKey) } },
      );
    }
    // Statement r holds the r-th job of each key (jobs without a key go in the first).
    const statements: number[][] = [];
    const seen = new Map<string, number>();
    for (const i of todo) {
      const key = jobs[i]!.uniqueKey;
      const r = key === null ? 0 : (seen.get(key) ?? 0);
      if (key !== null) seen.set(key, r + 1);
      (statements[r] ??= []).push(i);
    }
    const again: number[] = [];
    const deferredKeys = new Set<string>();
    for (const statement of statements) {
      const batch: number[] = [];
      for (const i of statement) {
        const key = jobs[i]!.uniqueKey;
        if (key !== null && deferredKeys.has(key)) again.push(i);
        else batch.push(i);
      }
      if (batch.length === 0) continue;
      const list = batch.map((i) => jobs[i]!);
      const { rows } = await query<ModesRow>("insert_modes", modesSql(ctx), [
        ...columns(list),
        list.map((j) => j.uniqueMode ?? "keep"),
        ctx.channels.jobs,
      ]);
      rows.forEach((row, k) => {
        const index = batch[k]!;
        const job = jobs[index]!;
        const replacing = job.uniqueMode === "debounce" || job.uniqueMode === "throttle";
        if (row.inserted) results[index] = { id: row.id, inserted: true, outcome: "inserted" };
        else if (row.replaced_id !== null)
          results[index] = { id: row.replaced_id, inserted: false, outcome: "replaced" };
        else if (row.held_id !== null && (!replacing || row.held_state === "running"))
          results[index] = { id: row.held_id, inserted: false, outcome: "kept" };
        else {
          again.push(index);
          if (job.uniqueKey !== null) deferredKeys.add(job.uniqueKey);
        }
      });
    }
    todo = again.sort((a, b) => a - b);
  }
  return results as InsertResult[];
}
