/**
 * The three convergers of the seed, plus the backend job that deprovisions a cluster.
 * Each is idempotent: it re-reads the state for its key and changes only what is wrong, returning
 * what it changed (tend records that as one inconsistency) or nothing.
 */
import type { ConvergerDefinition } from "../../src/converge/index.ts";
import type { AppDatabase } from "./db.ts";

const now = () => new Date().toISOString();

/** Archived accounts archive every resource they own. */
export const archiveAccountResources: ConvergerDefinition = {
  name: "archive-account-resources",
  every: "30s",
  wakeOn: [{ table: "account", key: "id" }],
  // Archived accounts that still own live resources: the targets worth looking at now.
  find: async (ctx) =>
    (
      await ctx.sql(
        `SELECT DISTINCT a.id FROM account a JOIN resource r ON r.account_id = a.id
         WHERE a.archived_at IS NOT NULL AND r.archived_at IS NULL`,
      )
    ).map((r) => String(r["id"])),
  converge: async (accountId, ctx) => {
    // One statement: archive what this account still owns, if (and only if) it is archived.
    const archived = await ctx.sql(
      `UPDATE resource SET archived_at = $2
       WHERE account_id = $1 AND archived_at IS NULL
         AND EXISTS (SELECT 1 FROM account WHERE id = $1 AND archived_at IS NOT NULL)
       RETURNING id, kind, name`,
      [accountId, now()],
    );
    return {
      changed: {
        resources: archived.map((r) => ({ id: Number(r["id"]), kind: r["kind"], name: r["name"] })),
      },
    };
  },
};

/** Clusters of archived resources are deprovisioned by the backend (a job). */
export const deprovisionArchivedClusters: ConvergerDefinition = {
  name: "deprovision-archived-clusters",
  every: "30s",
  wakeOn: ["resource"],
  find: async (ctx) =>
    (
      await ctx.sql(
        `SELECT c.id FROM cluster c JOIN resource r ON r.id = c.resource_id
         WHERE r.archived_at IS NOT NULL AND c.state = 'running'`,
      )
    ).map((r) => String(r["id"])),
  converge: async (clusterId, ctx) =>
    ctx.transaction(async (tx) => {
      const marked = await tx.sql(
        `UPDATE cluster SET state = 'deprovisioning'
         WHERE id = $1 AND state = 'running'
           AND resource_id IN (SELECT id FROM resource WHERE archived_at IS NOT NULL)
         RETURNING id`,
        [clusterId],
      );
      if (marked.length === 0) return undefined;
      // The job exists if and only if this transaction commits.
      const job = await tx.enqueue(
        "cluster.deprovision",
        { clusterId },
        { uniqueKey: `deprovision:${clusterId}` },
      );
      return { changed: { deprovisioning: Number(clusterId), job: job.id } };
    }),
};

/** Each live cluster has exactly one open subscription of its plan and size; others have none. */
export const convergeSubscriptions: ConvergerDefinition = {
  name: "converge-subscriptions",
  every: "5s",
  wakeOn: [{ table: "cluster", key: "id" }],
  find: async (ctx) =>
    (
      await ctx.sql(
        `SELECT c.id FROM cluster c
         WHERE (c.state = 'running' AND (SELECT count(*) FROM subscription s
                 WHERE s.cluster_id = c.id AND s.closed_at IS NULL AND s.plan = c.plan AND s.size = c.size) <> 1)
            OR EXISTS (SELECT 1 FROM subscription s WHERE s.cluster_id = c.id AND s.closed_at IS NULL
                 AND (c.state <> 'running' OR s.plan <> c.plan OR s.size <> c.size))`,
      )
    ).map((r) => String(r["id"])),
  converge: async (clusterId, ctx) =>
    ctx.transaction(async (tx) => {
      const [cluster] = await tx.sql("SELECT plan, size, state FROM cluster WHERE id = $1", [clusterId]);
      const open = await tx.sql(
        "SELECT id, plan, size FROM subscription WHERE cluster_id = $1 AND closed_at IS NULL ORDER BY id",
        [clusterId],
      );
      const live = cluster?.["state"] === "running";
      let kept: number | null = null;
      const close: number[] = [];
      for (const s of open) {
        const matches =
          live && s["plan"] === cluster?.["plan"] && Number(s["size"]) === Number(cluster?.["size"]);
        if (matches && kept === null) kept = Number(s["id"]);
        else close.push(Number(s["id"]));
      }
      const at = now();
      for (const id of close) await tx.sql("UPDATE subscription SET closed_at = $2 WHERE id = $1", [id, at]);
      const opened: number[] = [];
      if (live && kept === null) {
        const [row] = await tx.sql(
          "INSERT INTO subscription (cluster_id, plan, size, opened_at) VALUES ($1, $2, $3, $4) RETURNING id",
          [clusterId, String(cluster?.["plan"]), Number(cluster?.["size"]), at],
        );
        opened.push(Number(row?.["id"]));
      }
      return { changed: { closed: close, opened } };
    }),
};

/** Every converger of the example. */
export const ACCOUNT_CONVERGERS: readonly ConvergerDefinition[] = [
  archiveAccountResources,
  deprovisionArchivedClusters,
  convergeSubscriptions,
];

/**
 * The backend state machine's side: deprovision one cluster (here: mark it deprovisioned after
 * a pretend call to the backend). Idempotent, as a job must be (it runs at least once).
 */
export async function deprovisionCluster(
  db: AppDatabase,
  clusterId: string,
  signal: AbortSignal,
): Promise<unknown> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  signal.throwIfAborted();
  const rows = await db.sql(
    "UPDATE cluster SET state = 'deprovisioned', deprovisioned_at = $2 WHERE id = $1 AND state = 'deprovisioning' RETURNING id",
    [clusterId, now()],
  );
  return { deprovisioned: rows.length === 1 };
}
