import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { type AppDatabase, openAppDatabase } from "../../../examples/accounts/db.ts";
import { addAccount, ensureSchema } from "../../../examples/accounts/schema.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";

const MAIN = join(import.meta.dirname, "../../../examples/accounts/main.ts");
const TTL_MS = 4000;
const CONVERGER = "archive-account-resources";

interface Child {
  proc: ChildProcess;
  lines: Array<Record<string, unknown>>;
  /** Resolves with the time (ms) the child logged that it leads CONVERGER. */
  leading: Promise<number>;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

function startChild(url: string): Child {
  const proc = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      ACCOUNTS_LEASE_TTL: `${TTL_MS}ms`,
      TEND_LOG_PRETTY: "0",
      TEND_LOG_LEVEL: "info",
      NODE_TEST_CONTEXT: "",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: Array<Record<string, unknown>> = [];
  let resolveLeading: (at: number) => void = () => {};
  const leading = new Promise<number>((resolve) => {
    resolveLeading = resolve;
  });
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry["msg"] === "leading the converger" && entry["converger"] === CONVERGER)
        resolveLeading(Date.now());
    } catch {
      // not a log line
    }
  });
  const exited = once(proc, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  return { proc, lines, leading, exited };
}

const started = (c: Child) =>
  c.lines.some((l) => l["msg"] === "task started" && l["task"] === `converger:${CONVERGER}`);

/** Two and three real processes on one database: one leads, SIGTERM hands over at once, kill -9 within the TTL. */
export function describeLeaderProcesses(driver: "sqlite" | "postgres"): void {
  describe(`converger leadership across real processes on ${driver}`, () => {
    let backend: Backend | null;
    let db: AppDatabase;
    const children: Child[] = [];

    before(async () => {
      backend = await createBackend(driver);
      if (backend === null) return;
      db = await openAppDatabase(backend.url);
      await ensureSchema(db);
    });
    after(async () => {
      for (const c of children)
        if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
      await Promise.all(children.map((c) => c.exited));
      await db?.close();
      await backend?.cleanup();
    });

    it("SIGTERM hands the lease over at once; kill -9 is taken over within the TTL; the new leader converges", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const a = startChild(backend.url);
      children.push(a);
      await Promise.race([a.leading, a.exited.then(() => assert.fail("the first process exited"))]);
      const b = startChild(backend.url);
      children.push(b);
      await waitFor(() => started(b), {
        timeoutMs: 30_000,
        message: "the second process's converger to start",
      });

      const termAt = Date.now();
      a.proc.kill("SIGTERM");
      const bLeadsAt = await b.leading;
      assert.ok(
        bLeadsAt - termAt < TTL_MS / 2,
        `taken over ${bLeadsAt - termAt} ms after SIGTERM: at once, not after the ${TTL_MS} ms TTL`,
      );
      t.diagnostic(`SIGTERM hand-over: ${bLeadsAt - termAt} ms`);
      const [code] = await a.exited;
      assert.equal(code, 0, "the old leader shut down cleanly");

      const c = startChild(backend.url);
      children.push(c);
      await waitFor(() => started(c), {
        timeoutMs: 30_000,
        message: "the third process's converger to start",
      });
      const killAt = Date.now();
      b.proc.kill("SIGKILL");
      const cLeadsAt = await c.leading;
      assert.ok(
        cLeadsAt - killAt <= TTL_MS + 1500,
        `a dead leader is replaced within the TTL (${cLeadsAt - killAt} ms, TTL ${TTL_MS} ms)`,
      );

      t.diagnostic(`kill -9 take-over: ${cLeadsAt - killAt} ms (TTL ${TTL_MS} ms)`);
      const id = await addAccount(db, "kim@example.com", 1);
      await db.sql(
        driver === "postgres"
          ? "UPDATE account SET archived_at = now() WHERE id = $1"
          : "UPDATE account SET archived_at = strftime('%Y-%m-%dT%H:%M:%fZ') WHERE id = $1",
        [id],
      );
      await waitFor(
        async () =>
          Number(
            (
              await db.sql(
                "SELECT count(*) AS n FROM resource WHERE account_id = $1 AND archived_at IS NULL",
                [id],
              )
            )[0]?.["n"],
          ) === 0,
        { timeoutMs: 10_000, message: "the new leader to archive the account's resources" },
      );
      c.proc.kill("SIGTERM");
      assert.equal((await c.exited)[0], 0);
    });
  });
}
