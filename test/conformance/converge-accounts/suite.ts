import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { type AccountsApp, createAccountsApp } from "../../../examples/accounts/app.ts";
import { addAccount } from "../../../examples/accounts/schema.ts";
import { Manager } from "../../../src/lifecycle/manager.ts";
import { createLogger } from "../../../src/log/logger.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { type Operator, openOperator } from "../../support/operator.ts";
import { waitFor } from "../../support/wait.ts";

const run = promisify(execFile);
const log = createLogger({ level: process.env["TEND_TEST_LOG"] ?? "silent", pretty: false });

/** The seed's example end to end: one operator statement archives everything an account owned. */
export function describeAccountsExample(driver: "sqlite" | "postgres"): void {
  describe(`examples/accounts on ${driver}`, () => {
    let backend: Backend | null;
    let op: Operator;
    let accounts: AccountsApp;
    let manager: Manager;

    before(async () => {
      backend = await createBackend(driver);
      if (backend === null) return;
      op = await openOperator(backend);
      accounts = await createAccountsApp({ database: backend.url, log, converger: { pollInterval: "25ms" } });
    });
    after(async () => {
      await manager?.stop().catch(() => {});
      await accounts?.app.close().catch(() => {});
      await accounts?.db.close();
      await op?.close();
      await backend?.cleanup();
    });

    const count = async (sql: string, params: unknown[] = []) =>
      Number((await op.exec(sql, params))[0]?.["n"]);

    it("after one UPDATE of the account, its resources are archived, clusters deprovisioned and subscriptions closed, with one inconsistency for the account", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const ada = await addAccount(accounts.db, "ada@example.com", 2);
      const grace = await addAccount(accounts.db, "grace@example.com", 1);
      manager = new Manager({ log, shutdownTimeout: "10s" });
      await accounts.app.start(manager);
      // The subscription converger opens one subscription per live cluster on its first sweep.
      await waitFor(
        async () => (await count("SELECT count(*) AS n FROM subscription WHERE closed_at IS NULL")) === 3,
        {
          message: "a subscription for each of the 3 clusters",
        },
      );

      const statement =
        driver === "postgres"
          ? "UPDATE account SET archived_at = now() WHERE email = $1 RETURNING *"
          : "UPDATE account SET archived_at = strftime('%Y-%m-%dT%H:%M:%fZ') WHERE email = $1 RETURNING *";
      const [row] = await op.exec(statement, ["ada@example.com"]);
      assert.equal(Number(row?.["id"]), ada);

      await waitFor(
        async () =>
          (await count("SELECT count(*) AS n FROM resource WHERE account_id = $1 AND archived_at IS NULL", [
            ada,
          ])) === 0 &&
          (await count(
            `SELECT count(*) AS n FROM cluster c JOIN resource r ON r.id = c.resource_id
             WHERE r.account_id = $1 AND c.state = 'deprovisioned'`,
            [ada],
          )) === 2 &&
          (await count(
            `SELECT count(*) AS n FROM subscription s JOIN cluster c ON c.id = s.cluster_id JOIN resource r ON r.id = c.resource_id
             WHERE r.account_id = $1 AND s.closed_at IS NULL`,
            [ada],
          )) === 0,
        {
          timeoutMs: 15_000,
          message: "ada's resources archived, clusters deprovisioned, subscriptions closed",
        },
      );
      // Grace is untouched.
      assert.equal(
        await count("SELECT count(*) AS n FROM resource WHERE account_id = $1 AND archived_at IS NULL", [
          grace,
        ]),
        2,
      );
      assert.equal(
        await count(
          `SELECT count(*) AS n FROM subscription s JOIN cluster c ON c.id = s.cluster_id JOIN resource r ON r.id = c.resource_id
           WHERE r.account_id = $1 AND s.closed_at IS NULL`,
          [grace],
        ),
        1,
      );
      const converge = (await accounts.app.store()).converge;
      const archived = await converge.listInconsistencies({ converger: "archive-account-resources" });
      assert.equal(archived.length, 1, "one inconsistency for the account");
      assert.equal(archived[0]?.key, String(ada));
      assert.equal((archived[0]?.changes as { resources?: unknown[] } | undefined)?.resources?.length, 3);
      const deprovisioned = await converge.listInconsistencies({
        converger: "deprovision-archived-clusters",
      });
      assert.equal(deprovisioned.length, 2, "one per cluster");
      // Sweeping again changes nothing: the archive converger stays at one inconsistency.
      const c = accounts.app.getConverger("archive-account-resources");
      assert.ok(c);
      const report = await c.sweepOnce();
      assert.deepEqual(report.changed, []);
      assert.equal(
        (await converge.listInconsistencies({ converger: "archive-account-resources" })).length,
        1,
      );
      // What the operator sees: `tend inconsistencies`.
      const { stdout } = await run(process.execPath, [
        join(import.meta.dirname, "../../../bin/tend.js"),
        "inconsistencies",
        "--database",
        backend.url,
        "--converger",
        "archive-account-resources",
        "--since",
        "1h",
      ]);
      const lines = stdout.trim().split("\n");
      assert.equal(lines.length, 1, stdout);
      assert.ok(lines[0]?.includes(`  archive-account-resources  ${ada}  {"resources":[`), lines[0]);
    });
  });
}
