import { checkInteger } from "../../errors/index.ts";
import type { AdminStore, AuditEntry, AuditFilter, DeleteOutcome, NewAuditEntry } from "../admin-model.ts";
import { jobIdText } from "../args.ts";
import { getJob } from "./admin.ts";
import { jobIdArg } from "./args.ts";
import type { SqliteContext } from "./context.ts";
import type { Row } from "./rows.ts";

function toEntry(row: Row): AuditEntry {
  return {
    id: String(row["id"]),
    at: new Date(Number(row["at"])),
    action: String(row["action"]),
    target: String(row["target"]),
    tokenId: row["token_id"] === null ? null : String(row["token_id"]),
    outcome: String(row["outcome"]),
    detail: JSON.parse(String(row["detail"])) as Record<string, unknown>,
  };
}

/**
 * The admin surface's storage on SQLite: job deletion and the audit trail (`<prefix>admin_audit`).
 *
 * @example
 * ```ts
 * const admin = new SqliteAdminStore(ctx, "tend_");
 * await admin.recordAudit({ action: "job.retry", target: "job:42", tokenId: null, outcome: "ok" });
 * ```
 */
export class SqliteAdminStore implements AdminStore {
  readonly #ctx: SqliteContext;
  readonly #audit: string;

  constructor(ctx: SqliteContext, prefix: string) {
    this.#ctx = ctx;
    this.#audit = `"${prefix}admin_audit"`;
  }

  async deleteJob(id: string): Promise<DeleteOutcome> {
    const ctx = this.#ctx;
    const rowId = jobIdArg(jobIdText(id));
    const remove = ctx.stmt(`DELETE FROM ${ctx.t.jobs} WHERE id = ? AND state <> 'running'`);
    return await ctx.write(() => {
      const job = getJob(ctx, id);
      if (job === null) return { deleted: false, job: null };
      const deleted = Number(remove.run(rowId).changes) === 1;
      return { deleted, job };
    });
  }

  async recordAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const ctx = this.#ctx;
    const insert = ctx.stmt(
      `INSERT INTO ${this.#audit} (at, action, target, token_id, outcome, detail)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING id, at, action, target, token_id, outcome, detail`,
    );
    return await ctx.write(() =>
      toEntry(
        insert.get(
          ctx.now(),
          entry.action,
          entry.target,
          entry.tokenId,
          entry.outcome,
          JSON.stringify(entry.detail ?? {}),
        ) as Row,
      ),
    );
  }

  listAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    const limit = checkInteger("TEND_E_INVALID_STORE_ARGUMENT", "limit", filter.limit ?? 100, 1, 1_000);
    const before = filter.beforeId === undefined ? null : jobIdArg(jobIdText(filter.beforeId));
    const sql =
      `SELECT id, at, action, target, token_id, outcome, detail FROM ${this.#audit}` +
      (before === null ? "" : " WHERE id < ?") +
      " ORDER BY id DESC LIMIT ?";
    const args = before === null ? [limit] : [before, limit];
    return Promise.resolve((this.#ctx.stmt(sql).all(...args) as Row[]).map(toEntry));
  }
}
