import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../../src/app.ts";
import { isTendError } from "../../../src/errors/tend-error.ts";
import { Manager } from "../../../src/lifecycle/manager.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { itemConverger } from "../../support/items.ts";
import { type Operator, openOperator } from "../../support/operator.ts";
import { makeTempDir } from "../../support/tmp.ts";
import { waitFor } from "../../support/wait.ts";
import { captureLog } from "../../lifecycle/log-capture.ts";

/**
 * The whole app in one process on one driver: `App.start` runs jobs, a per-second cron schedule, a
 * converger over the app's own table and a folder inbox together on one store, and a graceful
 * stop ends every task and closes the store.
 */
export function describeWholeApp(driver: "sqlite" | "postgres"): void {
  describe(`the whole app on ${driver}`, () => {
    let backend: Backend | null;
    let op: Operator;
    let tmp: { dir: string; cleanup(): Promise<void> };

    before(async () => {
      backend = await createBackend(driver);
      if (backend === null) return;
      op = await openOperator(backend);
      await op.exec("CREATE TABLE item (id integer PRIMARY KEY, desired text, actual text)");
      tmp = await makeTempDir("tend-app-");
    });
    after(async () => {
      await op?.close();
      await backend?.cleanup();
      await tmp?.cleanup();
    });

    it("runs jobs, cron, a converger and an inbox together, then stops gracefully with every task ended and the store closed", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const capture = captureLog();
      const inboxDir = join(tmp.dir, "inbox");
      const app = createApp({
        database: backend.url,
        log: capture.log,
        shutdownTimeout: "10s",
        jobs: { pollInterval: 100 },
      });

      const hellos: unknown[] = [];
      app.job("app.hello", ({ payload }) => void hellos.push(payload));
      let ticks = 0;
      app.job("app.tick", () => {
        ticks++;
      });
      app.cron("* * * * * *", "app.tick");
      app.converger(
        itemConverger("app-items", {
          wakeOn: [{ table: "item", key: "id" }],
          every: "30s",
          pollInterval: "25ms",
        }),
      );
      const processed: string[] = [];
      app.inbox({
        dir: inboxDir,
        settle: 0,
        process: async (file, ctx) => {
          processed.push(file.name);
          await ctx.writeOutput(`${file.name}.upper`, (await readFile(file.path, "utf8")).toUpperCase());
        },
      });

      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      const store = await app.store();
      try {
        // jobs: an enqueued job runs.
        const { id } = await app.enqueue("app.hello", { to: "world" });
        await waitFor(async () => (await app.jobs.get(id))?.state === "completed", {
          message: "the enqueued job completed",
        });
        assert.deepEqual(hellos, [{ to: "world" }]);

        // cron: a tick of the per-second schedule enqueues a job that runs.
        await waitFor(
          async () => (await app.jobs.list({ kind: "app.tick", state: "completed" })).length > 0,
          {
            message: "a cron tick's job completed",
          },
        );
        assert.ok(ticks >= 1);
        assert.ok(
          (await store.jobs.lastCronTick("app.tick@* * * * * *")) instanceof Date,
          "the tick is recorded",
        );

        // converger: a change to the app's table is converged and recorded as one inconsistency.
        await op.exec("INSERT INTO item (id, desired) VALUES (1, 'blue')");
        await waitFor(
          async () => (await store.converge.listInconsistencies({ converger: "app-items" })).length > 0,
          { message: "the converger recorded an inconsistency" },
        );
        const [recorded] = await store.converge.listInconsistencies({ converger: "app-items" });
        assert.equal(recorded?.key, "1");
        assert.deepEqual(recorded?.changes, [{ id: 1, actual: "blue" }]);
        assert.equal((await op.exec("SELECT actual FROM item WHERE id = 1"))[0]?.["actual"], "blue");

        // inbox: a file dropped in (written aside, then renamed in) ends in done/ with its output.
        await mkdir(inboxDir, { recursive: true });
        await writeFile(join(inboxDir, ".orders.csv.part"), "a,b\n");
        await rename(join(inboxDir, ".orders.csv.part"), join(inboxDir, "orders.csv"));
        await waitFor(() => existsSync(join(inboxDir, "done", "orders.csv")), {
          message: "orders.csv in done/",
        });
        assert.deepEqual(processed, ["orders.csv"]);
        assert.equal(await readFile(join(inboxDir, "out", "orders.csv.upper"), "utf8"), "A,B\n");
      } finally {
        await manager.stop("the test is over");
      }

      // A graceful stop: every task that started ended cleanly, and the store is closed.
      assert.equal(manager.state, "stopped");
      assert.deepEqual(manager.tasks, []);
      const lines = capture.lines().filter((l) => l["part"] === "lifecycle");
      const started = lines.filter((l) => l["msg"] === "task started").map((l) => String(l["task"]));
      const stopped = lines.filter((l) => l["msg"] === "task stopped").map((l) => String(l["task"]));
      assert.ok(started.length >= 4, `jobs, cron, converger and inbox tasks started: ${started.join(", ")}`);
      assert.ok(
        started.some((name) => name.includes("app-items")),
        `a converger task in ${started.join(", ")}`,
      );
      assert.ok(
        started.some((name) => name.startsWith("inbox")),
        `an inbox task in ${started.join(", ")}`,
      );
      assert.deepEqual([...stopped].sort(), [...started].sort(), "every started task stopped cleanly");
      assert.equal(lines.filter((l) => l["msg"] === "task failed").length, 0);
      await assert.rejects(store.jobs.get("1"), (err) => isTendError(err, "TEND_E_STORE_CLOSED"));
    });
  });
}
