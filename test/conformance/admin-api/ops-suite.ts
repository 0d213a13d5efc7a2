import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type App, createApp } from "../../../src/app.ts";
import { Manager } from "../../../src/lifecycle/manager.ts";
import { fleetStore } from "../../../src/store/index.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { itemConverger } from "../../support/items.ts";
import { type Operator, openOperator } from "../../support/operator.ts";
import { makeTempDir } from "../../support/tmp.ts";
import { waitFor } from "../../support/wait.ts";
import { captureLog } from "../../lifecycle/log-capture.ts";

const TOKEN = "admin-token-for-ops-tests-0123456789";

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

async function call(url: string, options: { method?: string; token?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { connection: "close" };
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  const res = await fetch(url, { method: options.method ?? "GET", headers });
  const text = await res.text();
  return { status: res.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const post = (url: string, token: string | undefined = TOKEN) =>
  call(url, { method: "POST", ...(token === undefined ? {} : { token }) });

function errorCode(answer: Answer): string {
  return String((answer.json["error"] as { code?: string } | undefined)?.code);
}

/**
 * The operations routes of the admin API (queues, cron, convergers, inbox, workers) of a real app
 * over real HTTP on one driver: each action acts through the store, is audited, and is refused
 * with 403 when the server is read-only.
 */
export function describeAdminOpsApi(driver: "sqlite" | "postgres"): void {
  describe(`the admin API's operations routes on ${driver}`, () => {
    let backend: Backend | null;
    let op: Operator;
    let tmp: { dir: string; cleanup(): Promise<void> };

    before(async () => {
      backend = await createBackend(driver);
      if (backend === null) return;
      op = await openOperator(backend);
      await op.exec("CREATE TABLE item (id integer PRIMARY KEY, desired text, actual text)");
      tmp = await makeTempDir("tend-admin-ops-");
    });
    after(async () => {
      await op?.close();
      await backend?.cleanup();
      await tmp?.cleanup();
    });

    async function start(
      t: { after(fn: () => unknown): void },
      http: Record<string, unknown>,
      define: (app: App) => void = () => {},
    ): Promise<{ app: App; base: string }> {
      const capture = captureLog();
      const app = createApp({
        database: backend!.url,
        log: capture.log,
        http: { port: 0, dashboard: true, ...http },
        jobs: { queues: {} },
      });
      define(app);
      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      t.after(() => manager.stop());
      return { app, base: app.httpAddress! };
    }

    it("pauses and resumes a queue, runs and disables a cron schedule, each audited", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await start(t, { adminToken: TOKEN }, (a) => {
        a.job("ops.nightly", () => {}, { queue: "nightly", rateLimit: { limit: 10, per: "1s" } });
        a.cron("0 2 * * *", "ops.nightly", { n: 1 }, { name: "nightly" });
      });
      await app.enqueue("ops.mail", { i: 1 }, { queue: "mail" });

      const paused = await post(`${base}/api/queues/mail/pause`);
      assert.equal(paused.status, 200, JSON.stringify(paused.json));
      const details = async () =>
        (await call(`${base}/api/queues/details`)).json["queues"] as Array<Record<string, unknown>>;
      const mail = (await details()).find((q) => q["queue"] === "mail");
      assert.equal(mail?.["paused"], true);
      assert.equal(mail?.["available"], 1);
      const nightly = (await details()).find((q) => q["queue"] === "nightly");
      assert.deepEqual(nightly?.["limits"], [
        { kind: "ops.nightly", concurrencyLimit: null, rateLimit: { limit: 10, periodMs: 1000 } },
      ]);
      assert.equal((await post(`${base}/api/queues/mail/resume`)).status, 200);
      assert.equal((await details()).find((q) => q["queue"] === "mail")?.["paused"], false);

      // The cron task registers its schedule as it starts.
      const entries = await waitFor(
        async () => {
          const list = (await call(`${base}/api/cron`)).json["entries"] as Array<Record<string, unknown>>;
          return list.length === 1 ? list : null;
        },
        { message: "the schedule registered" },
      );
      assert.equal(entries[0]?.["description"], "at 02:00 every day");
      assert.equal((entries[0]?.["nextRuns"] as string[]).length, 3);
      const run = await post(`${base}/api/cron/nightly/run`);
      assert.equal(run.status, 201, JSON.stringify(run.json));
      const job = await app.jobs.get(String(run.json["id"]));
      assert.deepEqual([job?.kind, job?.queue, job?.payload], ["ops.nightly", "nightly", { n: 1 }]);
      assert.equal((await post(`${base}/api/cron/nightly/pause`)).status, 200);
      assert.equal(((await app.jobs.cronEntries())[0] as { paused: boolean }).paused, true);
      assert.equal((await post(`${base}/api/cron/nightly/resume`)).status, 200);
      assert.equal(((await app.jobs.cronEntries())[0] as { paused: boolean }).paused, false);
      const missing = await post(`${base}/api/cron/${encodeURIComponent("no such@* * * * *")}/run`);
      assert.equal(missing.status, 404);
      assert.equal(errorCode(missing), "TEND_E_CRON_NOT_FOUND");

      const audit = (await call(`${base}/api/audit?limit=7`)).json["entries"] as Array<
        Record<string, unknown>
      >;
      assert.deepEqual(
        audit.map((e) => [e["action"], e["target"], e["outcome"]]),
        [
          ["cron.run", "cron:no such@* * * * *", "TEND_E_CRON_NOT_FOUND"],
          ["cron.resume", "cron:nightly", "ok"],
          ["cron.pause", "cron:nightly", "ok"],
          ["cron.run", "cron:nightly", "ok"],
          ["queue.resume", "queue:mail", "ok"],
          ["queue.pause", "queue:mail", "ok"],
        ].slice(0, 7),
      );
    });

    it("shows a converger's leader and epoch, sweeps it on request, filters inconsistencies by key, retries a parked key", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await start(t, { adminToken: TOKEN }, (a) => {
        // No wakeOn and a long interval: only a requested sweep finds the new row soon.
        a.converger(itemConverger("ops-items", { every: "1h", pollInterval: "25ms" }));
      });
      const rows = await waitFor(
        async () => {
          const list = (await call(`${base}/api/convergers/leases`)).json["convergers"] as Array<
            Record<string, unknown>
          >;
          return list[0]?.["leader"] !== null && list[0]?.["lastSweepAt"] !== null ? list : null;
        },
        { message: "the converger leads and swept once" },
      );
      assert.equal(rows[0]?.["name"], "ops-items");
      assert.equal(rows[0]?.["here"], true);
      assert.equal(rows[0]?.["leaderHere"], true);
      assert.equal(typeof rows[0]?.["epoch"], "number");

      await op.exec("INSERT INTO item (id, desired) VALUES (41, 'red'), (42, 'green')");
      const sweep = await post(`${base}/api/convergers/ops-items/sweep`);
      assert.equal(sweep.status, 202, JSON.stringify(sweep.json));
      await waitFor(
        async () =>
          ((await call(`${base}/api/convergers/inconsistencies`)).json["inconsistencies"] as unknown[])
            .length === 2,
        { message: "the requested sweep converged both rows", timeoutMs: 20_000 },
      );
      const only42 = (await call(`${base}/api/convergers/inconsistencies?key=42`)).json[
        "inconsistencies"
      ] as Array<Record<string, unknown>>;
      assert.deepEqual(
        only42.map((i) => [i["converger"], i["key"]]),
        [["ops-items", "42"]],
      );
      const unknown = await post(`${base}/api/convergers/no-such/sweep`);
      assert.equal(unknown.status, 404);

      const store = await app.store();
      await store.converge.recordTerminal("ops-items", "7", null, "the bucket is gone", null);
      const parked = (await call(`${base}/api/convergers/leases`)).json["convergers"] as Array<
        Record<string, unknown>
      >;
      assert.equal(parked[0]?.["parked"], 1);
      const classic = (await call(`${base}/api/convergers`)).json["convergers"] as Array<
        Record<string, unknown>
      >;
      assert.equal(classic[0]?.["parked"], 1, "/api/convergers counts the converger's parked keys too");
      const retried = await post(`${base}/api/convergers/ops-items/keys/7/retry`);
      assert.equal(retried.status, 200);
      assert.deepEqual(await store.converge.listTerminal("ops-items"), []);
      assert.equal((await post(`${base}/api/convergers/ops-items/keys/7/retry`)).status, 404);
      const audit = (await call(`${base}/api/audit?limit=4`)).json["entries"] as Array<
        Record<string, unknown>
      >;
      assert.deepEqual(
        audit.map((e) => [e["action"], e["target"], e["outcome"]]),
        [
          ["converger.key.retry", "converger:ops-items/7", "TEND_E_ADMIN_NOT_FOUND"],
          ["converger.key.retry", "converger:ops-items/7", "ok"],
          ["converger.sweep", "converger:no-such", "TEND_E_ADMIN_NOT_FOUND"],
          ["converger.sweep", "converger:ops-items", "ok"],
        ],
      );
    });

    it("shows a key backing off after an ordinary error and runs it now on request, without waiting out its backoff", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      await op.exec("INSERT INTO item (id, desired) VALUES (13, 'amber')");
      let broken = true;
      const { app, base } = await start(t, { adminToken: TOKEN }, (a) => {
        const def = itemConverger("ops-backoff", {
          every: "1h",
          pollInterval: "25ms",
          backoff: { base: "1h" },
        });
        const converge = def.converge;
        a.converger({
          ...def,
          converge: async (key, ctx) => {
            if (broken) throw new Error("the API is down");
            return converge(key, ctx);
          },
        });
      });
      const row = await waitFor(
        async () => {
          const list = (await call(`${base}/api/convergers/leases`)).json["convergers"] as Array<
            Record<string, unknown>
          >;
          const mine = list.find((c) => c["name"] === "ops-backoff");
          return (mine?.["backingOff"] as unknown[] | undefined)?.length === 1 ? mine : null;
        },
        { message: "the key backs off" },
      );
      const [waiting] = row["backingOff"] as Array<Record<string, unknown>>;
      assert.equal(waiting?.["key"], "13");
      assert.equal(waiting?.["failures"], 1);
      assert.ok(Date.parse(String(waiting?.["dueAt"])) > Date.now() + 30 * 60_000, "due in about an hour");
      broken = false;
      const run = await post(`${base}/api/convergers/ops-backoff/keys/13/run`);
      assert.equal(run.status, 202, JSON.stringify(run.json));
      const store = await app.store();
      await waitFor(
        async () =>
          (await store.converge.listInconsistencies({ converger: "ops-backoff", key: "13" })).length === 1,
        { message: "the key ran at once and converged", timeoutMs: 20_000 },
      );
    });

    it("lists an inbox's failed file with its error and retries it into the inbox", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const dir = join(tmp.dir, `inbox-${driver}`);
      let broken = true;
      const { base } = await start(t, { adminToken: TOKEN }, (a) => {
        a.inbox({
          name: "orders",
          dir,
          settle: 0,
          retries: 0,
          process: async () => {
            if (broken) throw new Error("row 3 has 1 field, the header has 2");
          },
        });
      });
      await writeFile(join(tmp.dir, "orders.csv.part"), "a,b\n1\n");
      await rename(join(tmp.dir, "orders.csv.part"), join(dir, "orders.csv"));
      const inbox = await waitFor(
        async () => {
          const [first] = (await call(`${base}/api/inboxes`)).json["inboxes"] as Array<
            Record<string, unknown>
          >;
          return (first?.["failedFiles"] as unknown[] | undefined)?.length === 1 ? first : null;
        },
        { message: "the file failed" },
      );
      const [failed] = inbox["failedFiles"] as Array<Record<string, unknown>>;
      assert.equal(failed?.["name"], "orders.csv");
      assert.equal(failed?.["error"], "row 3 has 1 field, the header has 2");
      broken = false;
      const retried = await post(`${base}/api/inboxes/orders/failed/orders.csv/retry`);
      assert.equal(retried.status, 200, JSON.stringify(retried.json));
      await waitFor(() => existsSync(join(dir, "done", "orders.csv")), { message: "the retried file done" });
      assert.equal(existsSync(join(dir, "failed", "orders.csv.error.json")), false, "its sidecar is gone");
      const again = await post(`${base}/api/inboxes/orders/failed/orders.csv/retry`);
      assert.equal(again.status, 404);
      assert.equal(errorCode(again), "TEND_E_INBOX_FAILED_FILE_NOT_FOUND");
      const sneaky = await post(`${base}/api/inboxes/orders/failed/..%2F..%2Fetc/retry`);
      assert.equal(sneaky.status, 404);
    });

    it("lists supervise masters with their registered workers (the fleet table on PostgreSQL)", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await start(t, {});
      const store = await app.store();
      for (const pid of [5001, 5002])
        await store.processes.heartbeat(
          {
            id: `w-${pid}`,
            host: "ops-host",
            pid,
            program: "app.js",
            version: "0.1.0",
            masterPid: 5000,
            // What each worker registered at its start; the master's fleet row says otherwise for 5001.
            restarts: pid === 5001 ? 1 : 2,
            queues: ["default"],
            concurrency: 4,
            inFlight: 1,
            rssBytes: 50_000_000,
            heapUsedBytes: 10_000_000,
          },
          60_000,
        );
      const fleet = await fleetStore(store);
      if (fleet !== null) {
        await fleet.heartbeat(
          {
            id: "ops-host:5000.1",
            host: "ops-host",
            pid: 5000,
            program: "app.js",
            min: 1,
            max: 4,
            desired: 2,
            workers: [
              { id: "w-5001", pid: 5001, state: "ready", inFlight: 1, restarts: 3 },
              { id: "w-5002", pid: 5002, state: "ready", inFlight: 1, restarts: 0 },
            ],
          },
          60_000,
        );
      }
      try {
        const { masters } = (await call(`${base}/api/workers/masters`)).json as {
          masters: Array<Record<string, unknown>>;
        };
        const mine = masters.find((m) => m["host"] === "ops-host");
        assert.equal(mine?.["pid"], 5000);
        assert.equal(mine?.["alive"], true);
        assert.deepEqual(
          (mine?.["workers"] as Array<{ pid: number }>).map((w) => w.pid).sort(),
          [5001, 5002],
        );
        assert.equal(mine?.["desired"], driver === "postgres" ? 2 : null);
        const page = await (await fetch(`${base}/ui/workers`, { headers: { connection: "close" } })).text();
        assert.match(page, /data-master="ops-host:5000"/);
        assert.match(page, /data-worker="w-5001"/);
        // The slot restarts: the master's report in the fleet table (PostgreSQL), else what each
        // worker registered at its start (SQLite); on the worker's row and summed on the master's.
        const restarts = driver === "postgres" ? { "5001": 3, "5002": 0 } : { "5001": 1, "5002": 2 };
        assert.deepEqual(mine?.["restarts"], restarts);
        assert.match(
          page,
          new RegExp(
            `data-worker="w-5001">(?:(?!</tr>)[\\s\\S])*<td class="n">\\s*${restarts["5001"]}\\s*</td>`,
          ),
        );
        assert.match(page, /data-master="ops-host:5000">(?:(?!<\/tr>)[\s\S])*<td class="n">\s*3\s*<\/td>/);
      } finally {
        for (const pid of [5001, 5002]) await store.processes.remove(`w-${pid}`);
        await fleet?.remove("ops-host:5000.1");
      }
    });

    it("read-only: every operations action is refused with 403 and nothing changes; the reads answer", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await start(t, {});
      await app.enqueue("ops.ro", {}, { queue: "ro" });
      for (const path of [
        "/api/queues/ro/pause",
        "/api/queues/ro/resume",
        "/api/cron/x/run",
        "/api/cron/x/pause",
        "/api/cron/x/resume",
        "/api/convergers/x/sweep",
        "/api/convergers/x/keys/1/retry",
        "/api/convergers/x/keys/1/run",
        "/api/convergers/x/parked/retry",
        "/api/inboxes/x/failed/y/retry",
      ]) {
        const answer = await post(`${base}${path}`, "whatever-token-0123456789");
        assert.deepEqual([answer.status, errorCode(answer)], [403, "TEND_E_ADMIN_READ_ONLY"], path);
      }
      assert.deepEqual(
        (await app.jobs.listQueues()).filter((q) => q.paused),
        [],
      );
      for (const path of [
        "/api/queues/details",
        "/api/cron",
        "/api/convergers/leases",
        "/api/inboxes",
        "/api/workers/masters",
      ]) {
        assert.equal((await call(`${base}${path}`)).status, 200, path);
      }
      const masters = (await call(`${base}/api/workers/masters`)).json;
      assert.deepEqual(masters, { masters: [], fleet: driver === "postgres" });
      const paths = Object.keys(
        (await call(`${base}/api/openapi.json`)).json["paths"] as Record<string, unknown>,
      );
      for (const p of [
        "/api/queues/{name}/pause",
        "/api/cron/{name}/run",
        "/api/convergers/{name}/sweep",
        "/api/inboxes/{name}/failed/{file}/retry",
      ])
        assert.ok(paths.includes(p), p);
    });
  });
}
