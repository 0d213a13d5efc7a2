import { checkInteger } from "../../errors/index.ts";
import type { AdminStore, AuditEntry, AuditFilter, DeleteOutcome, NewAuditEntry } from "../admin-model.ts";
import { jobIdText } from "../args.ts";
import type { PgContext } from "./context.ts";
import { quoteIdent } from "./identifiers.ts";
import { JOB_COLUMNS, type JobRow, toJobRecord } from "./rows.ts";

interface AuditRow {
  id: string;
  at: Date;
  action: string;
  target: string;
  token_id: string | null;
  outcome: string;
  detail: Record<string, unknown>;
}

const AUDIT_COLUMNS = "id::text AS id, at, action, target, token_id, outcome, detail";

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    action: row.action,
    target: row.target,
    tokenId: row.token_id,
    outcome: row.outcome,
    detail: row.detail,
  };
}

/**
 * The admin surface's storage on PostgreSQL: job deletion and the audit trail (`<schema>.admin_audit`).
 *
 * @example
 * ```ts
 * const admin = new PostgresAdminStore(ctx);
 * await admin.recordAudit({ action: "job.retry", target: "job:42", tokenId: null, outcome: "ok" });
 * ```
 */
export class PostgresAdminStore implements AdminStore {
  readonly #ctx: PgContext;
  readonly #audit: string;

  constructor(ctx: PgContext) {
    this.#ctx = ctx;
    this.#audit = `${quoteIdent(ctx.schema)}.admin_audit`;
  }

  async deleteJob(id: string): Promise<DeleteOutcome> {
    const ctx = this.#ctx;
    // One statement: the row is deleted unless running, and returned either way.
    const { rows } = await ctx.run<JobRow & { deleted: boolean }>(
      "admin_delete",
      `WITH d AS (
        DELETE FROM ${ctx.jobs} WHERE id = $1 AND state <> 'running' RETURNING ${JOB_COLUMNS}
      )
      SELECT *, true AS deleted FROM d
      UNION ALL
      SELECT ${JOB_COLUMNS}, false FROM ${ctx.jobs} WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM d)`,
      [jobIdText(id)],
    );
    const row = rows[0];
    if (row === undefined) return { deleted: false, job: null };
    return { deleted: row.deleted, job: toJobRecord(row) };
  }

  async recordAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const { rows } = await this.#ctx.run<AuditRow>(
      "admin_audit_insert",
      `INSERT INTO ${this.#audit} (action, target, token_id, outcome, detail)
       VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING ${AUDIT_COLUMNS}`,
      [entry.action, entry.target, entry.tokenId, entry.outcome, JSON.stringify(entry.detail ?? {})],
    );
    return toEntry(rows[0]!);
  }

  async listAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    const limit = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "limit", filter.limit ?? 100, 1, 1_000);
    const { rows } =
      filter.beforeId === undefined
        ? await this.#ctx.run<AuditRow>(
            "admin_audit_list",
            `SELECT ${AUDIT_COLUMNS} FROM ${this.#audit} ORDER BY id DESC LIMIT $1`,
            [limit],
          )
        : await this.#ctx.run<AuditRow>(
            "admin_audit_list_before",
            `SELECT ${AUDIT_COLUMNS} FROM ${this.#audit} WHERE id < $1 ORDER BY id DESC LIMIT $2`,
            [jobIdText(filter.beforeId), limit],
          );
    return rows.map(toEntry);
  }
}
