import type pg from "pg";
import { TendError } from "../../errors/index.ts";
import { DEFAULT_MAX_LOST, type InsertResult, type NewJob } from "../job-model.ts";
import type { CallerTransaction } from "../job-store.ts";
import { callerClient } from "./caller-tx.ts";
import { BLOCKING, type PgContext } from "./context.ts";

/** The unnest() column arrays of a batch of jobs (one array per column, in input order). */
function columns(jobs: readonly NewJob[]): unknown[] {
  return [
    jobs.map((j) => j.kind),
    jobs.map((j) => j.queue),
    jobs.map((j) => j.payload),
    jobs.map((j) => j.priority),
    jobs.map((j) => j.runAt),
    jobs.map((j) => j.maxAttempts),
    jobs.map((j) => j.uniqueKey),
    jobs.map((j) => j.batchId),
    jobs.map((j) => j.batchIndex),
    jobs.map((j) => j.maxLost ?? DEFAULT_MAX_LOST),
    jobs.map((j) => j.traceContext ?? null),
    jobs.map((j) => j.concurrencyKey ?? null),
    jobs.map((j) => (j.concurrencyKey == null ? null : (j.concurrencyLimit ?? 1))),
  ];
}

function inputCte(ctx: PgContext): string {
  return `input AS MATERIALIZED (
    SELECT nextval('${ctx.jobs}_id_seq') AS id, t.*
    FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::int[], $7::text[], $8::text[], $9::int[], $10::int[], $11::text[], $12::text[], $13::int[])
      WITH ORDINALITY AS t(kind, queue, payload, priority, run_at, max_attempts, unique_key, batch_id, batch_index, max_lost, trace_context,
        concurrency_key, concurrency_limit, ord)
  )`;
}

function insertSelect(ctx: PgContext): string {
  return `INSERT INTO ${ctx.jobs} (id, kind, queue, payload, priority, state, run_at, max_attempts, unique_key, batch_id, batch_index, max_lost, trace_context,
      concurrency_key, concurrency_limit)
    SELECT id, kind, queue, payload::jsonb, priority,
      CASE WHEN run_at > statement_timestamp() THEN 'scheduled' ELSE 'available' END,
      run_at, max_attempts, unique_key, batch_id, batch_index, max_lost, trace_context,
      concurrency_key, concurrency_limit
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
  const client = tx === undefined ? undefined : callerClient(tx);
  if (jobs.length === 0) return [];
  const query = async <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) =>
    client === undefined ? ctx.run<R>(name, text, values) : client.query<R>(text, values);

  if (jobs.every((j) => j.uniqueKey === null)) {
    const { rows } = await query<{ id: string }>("insert", plainSql(ctx), columns(jobs));
    return rows.map((r) => ({ id: r.id, inserted: true }));
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
        results[index] = { id: row.id, inserted: true };
        if (key !== null && !firstByKey.has(key)) firstByKey.set(key, row.id);
        return;
      }
      const holder = row.held_id ?? (key === null ? undefined : firstByKey.get(key));
      if (holder === undefined) unresolved.push(index);
      else results[index] = { id: holder, inserted: false };
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
      else results[index] = { id: holder, inserted: false };
    }
  }
  return results as InsertResult[];
}
