import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { request as httpRequest } from "node:http";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { createApp } from "../../src/app.ts";
import { Manager } from "../../src/lifecycle/manager.ts";
import { createLogger } from "../../src/log/index.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { itemConverger } from "../support/items.ts";
import { openOperator } from "../support/operator.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

const TEND = join(import.meta.dirname, "..", "..", "bin", "tend.js");
const TOKEN = "dashboard-cli-token-0123456789";
const log = createLogger({ level: "silent" });
const ENV = { ...process.env, TEND_LOG_LEVEL: "warn", TEND_LOG_PRETTY: "0" };

/** Starts `tend dashboard` as a child process and resolves with its URL once it says where it listens. */
async function startDashboard(args: string[], t: { after(fn: () => unknown): void }) {
  const child = spawn(process.execPath, [TEND, "dashboard", ...args], {
    env: ENV,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      const m = /tend dashboard: (http:\/\/[^\s/]+)\/ui/.exec(stderr);
      if (m !== null) resolve(m[1]!);
    });
    void exited.then(([code]) => reject(new Error(`tend dashboard exited ${code}: ${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}

for (const driver of ["sqlite", "postgres"] as const) {
  describe(`tend dashboard against a ${driver} database (a real child process)`, () => {
    let backend: Backend | null;
    before(async () => {
      backend = await createBackend(driver);
    });
    after(() => backend?.cleanup());

    it("serves /ui and /api, acts with the token file, says where it listens, stops on SIGTERM", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const app = createApp({ database: backend.url, log, jobs: { queues: {} } });
      const { id } = await app.enqueue(
        "cli.dash",
        { secret: "s3cr3t" },
        { queue: "standalone", delay: "1h" },
      );
      await app.close();
      const tmp = await makeTempDir();
      t.after(tmp.cleanup);
      const tokenFile = join(tmp.dir, "token");
      await writeFile(tokenFile, `${TOKEN}\n`);

      const dash = await startDashboard(
        ["--database", backend.url, "--listen", "127.0.0.1:0", "--admin-token-file", tokenFile],
        t,
      );
      assert.match(dash.stderr(), new RegExp(`on ${driver} .*actions need the admin token`));
      const queues = (await (await fetch(`${dash.url}/api/queues`)).json()) as {
        queues: Array<{ queue: string; scheduled: number }>;
      };
      assert.equal(queues.queues.find((q) => q.queue === "standalone")?.scheduled, 1);
      const page = await fetch(`${dash.url}/ui/jobs/${id}`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /s3cr3t/);
      const refused = await fetch(`${dash.url}/api/jobs/${id}/cancel`, { method: "POST" });
      assert.equal(refused.status, 403);
      const cancelled = await fetch(`${dash.url}/api/jobs/${id}/cancel`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(cancelled.status, 200);
      const enqueued = await fetch(`${dash.url}/api/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ kind: "cli.remote", payload: { n: 1 }, options: { queue: "standalone" } }),
      });
      assert.equal(enqueued.status, 201);
      const audit = (await (await fetch(`${dash.url}/api/audit`)).json()) as {
        entries: Array<{ action: string }>;
      };
      assert.deepEqual(
        audit.entries.map((e) => e.action),
        ["job.enqueue", "job.cancel"],
      );
      // An open event stream does not hold the shutdown.
      const events = await fetch(`${dash.url}/api/events`);
      assert.equal(events.headers.get("content-type"), "text/event-stream; charset=utf-8");
      dash.child.kill("SIGTERM");
      const [code] = await dash.exited;
      assert.equal(code, 0, dash.stderr());
      await events.body?.cancel().catch(() => {});

      const hidden = await startDashboard(
        ["--database", backend.url, "--listen", "127.0.0.1:0", "--hide-payloads"],
        t,
      );
      assert.match(hidden.stderr(), /read-only/);
      const job = (await (await fetch(`${hidden.url}/api/jobs/${id}`)).json()) as {
        job: Record<string, unknown>;
      };
      assert.equal(job.job["payload"], null);
      assert.equal(job.job["payloadHidden"], true);
      assert.ok(!(await (await fetch(`${hidden.url}/ui/jobs/${id}`)).text()).includes("s3cr3t"));
      hidden.child.kill("SIGINT");
      assert.equal((await hidden.exited)[0], 0);

      // On a loopback address only localhost names and --allowed-host ones are answered.
      const tunnel = await startDashboard(
        ["--database", backend.url, "--listen", "127.0.0.1:0", "--allowed-host", "tend.internal"],
        t,
      );
      const { port } = new URL(tunnel.url);
      const status = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            { host: "127.0.0.1", port, path: "/api/queues", headers: { host } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on("error", reject);
          req.end();
        });
      assert.deepEqual(
        [await status(`tend.internal:${port}`), await status(`evil.example:${port}`)],
        [200, 403],
      );
      tunnel.child.kill("SIGTERM");
      await tunnel.exited;
    });

    it("operations pages from the database alone: a queue paused and a converger swept from another process; inbox state said to be the app's", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const op = await openOperator(backend);
      t.after(() => op.close());
      await op.exec("CREATE TABLE item (id integer PRIMARY KEY, desired text, actual text)");
      // The service: a converger that sweeps once an hour, in this test's process.
      const app = createApp({ database: backend.url, log, jobs: { queues: {} } });
      app.converger(itemConverger("cli-items", { every: "1h", pollInterval: "25ms" }));
      const manager = new Manager({ log, shutdownTimeout: "10s" });
      await app.start(manager);
      t.after(() => manager.stop());
      const store = await app.store();
      await waitFor(async () => (await store.converge.listLeases()).some((l) => l.live), {
        message: "the converger leads",
      });
      await app.enqueue("cli.ops", {}, { queue: "ops" });
      const tmp = await makeTempDir();
      t.after(tmp.cleanup);
      const tokenFile = join(tmp.dir, "token");
      await writeFile(tokenFile, `${TOKEN}\n`);
      const dash = await startDashboard(
        ["--database", backend.url, "--listen", "127.0.0.1:0", "--admin-token-file", tokenFile],
        t,
      );
      const post = (path: string) =>
        fetch(`${dash.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });

      assert.equal((await post("/api/queues/ops/pause")).status, 200);
      assert.equal((await app.jobs.listQueues()).find((q) => q.queue === "ops")?.paused, true);
      assert.match(await (await fetch(`${dash.url}/ui/queues`)).text(), /paused/);

      // Sweep now, from the other process: the leader here sweeps and repairs the new row.
      await op.exec("INSERT INTO item (id, desired) VALUES (5, 'teal')");
      const convergers = await (await fetch(`${dash.url}/ui/convergers`)).text();
      assert.match(convergers, /data-converger="cli-items"/);
      assert.equal((await post("/api/convergers/cli-items/sweep")).status, 202);
      await waitFor(
        async () =>
          (await store.converge.listInconsistencies({ converger: "cli-items", key: "5" })).length === 1,
        { message: "the requested sweep converged the row", timeoutMs: 20_000 },
      );

      const inbox = await (await fetch(`${dash.url}/ui/inbox`)).text();
      assert.match(inbox, /id="inbox-not-visible"/);
      assert.deepEqual(await (await fetch(`${dash.url}/api/inboxes`)).json(), {
        visible: false,
        inboxes: [],
      });
      for (const path of ["/ui/cron", "/ui/workers"])
        assert.equal((await fetch(`${dash.url}${path}`)).status, 200, path);
      dash.child.kill("SIGTERM");
      assert.equal((await dash.exited)[0], 0, dash.stderr());
    });

    it("fails with a clear error for a database that does not exist or a bad address", async (t) => {
      if (backend === null || driver !== "sqlite") return t.skip("SQLite only: a missing file");
      const run = promisify(execFile);
      const missing = await run(
        process.execPath,
        [TEND, "dashboard", "--database", "sqlite:/nonexistent/x.db"],
        {
          env: ENV,
        },
      ).catch((err: { code: number; stderr: string }) => err);
      assert.equal((missing as { code: number }).code, 1);
      assert.match((missing as { stderr: string }).stderr, /TEND_E_DATABASE_NOT_FOUND/);
      const bad = await run(
        process.execPath,
        [TEND, "dashboard", "--database", backend.url, "--listen", "nope"],
        {
          env: ENV,
        },
      ).catch((err: { code: number; stderr: string }) => err);
      assert.equal((bad as { code: number }).code, 1);
      assert.match((bad as { stderr: string }).stderr, /TEND_E_INVALID_HTTP_OPTIONS/);
    });
  });
}
