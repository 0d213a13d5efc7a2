import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../../src/app.ts";
import { listPage } from "../../../src/http/api/list-page.ts";
import { Manager } from "../../../src/lifecycle/manager.ts";
import { waitFor } from "../../support/wait.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { captureLog } from "../../lifecycle/log-capture.ts";

const TOKEN = "admin-token-for-tests-0123456789";

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

async function call(
  url: string,
  options: { method?: string; token?: string; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { connection: "close" };
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, {
    method: options.method ?? "GET",
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

function errorCode(answer: Answer): string {
  return String((answer.json["error"] as { code?: string } | undefined)?.code);
}

/** The admin API of a real app over real HTTP on one driver. */
export function describeAdminApi(driver: "sqlite" | "postgres"): void {
  describe(`the admin API on ${driver}`, () => {
    let backend: Backend | null;

    before(async () => {
      backend = await createBackend(driver);
    });
    after(async () => {
      await backend?.cleanup();
    });

    async function startApp(http: Record<string, unknown>, t: { after(fn: () => unknown): void }) {
      const capture = captureLog();
      const app = createApp({
        database: backend!.url,
        log: capture.log,
        http: { port: 0, ...http },
        // No queue is worked: the jobs stay where the test puts them.
        jobs: { queues: {} },
      });
      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      t.after(() => manager.stop());
      return { app, base: app.httpAddress! };
    }

    it("without dashboard: true there is no /api", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { base } = await startApp({}, t);
      assert.equal((await call(`${base}/api/queues`)).status, 404);
    });

    it("reads queues, a filtered keyset-paginated jobs list and a job; refuses every action with 403 when read-only", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await startApp({ dashboard: true }, t);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await app.enqueue("api.mail", { i }, { queue: "mail" })).id);
      const other = await app.enqueue("api.report", { r: 1 }, { queue: "reports", delay: "1h" });

      const info = await call(`${base}/api`);
      assert.equal(info.json["readOnly"], true);
      const openapi = await call(`${base}/api/openapi.json`);
      assert.equal(openapi.json["openapi"], "3.1.0");
      assert.ok("/api/jobs/{id}" in (openapi.json["paths"] as object));

      const queues = await call(`${base}/api/queues`);
      assert.equal(queues.status, 200);
      const byName = new Map(
        (queues.json["queues"] as Array<Record<string, unknown>>).map((q) => [q["queue"], q]),
      );
      assert.equal(byName.get("mail")?.["available"], 5);
      assert.equal(byName.get("reports")?.["scheduled"], 1);

      const page1 = await call(`${base}/api/jobs?queue=mail&limit=2`);
      assert.equal(page1.status, 200);
      const jobs1 = page1.json["jobs"] as Array<{ id: string }>;
      assert.deepEqual(
        jobs1.map((j) => j.id),
        [ids[4], ids[3]],
      );
      assert.equal(page1.json["next"], ids[3]);
      const page3 = await call(`${base}/api/jobs?queue=mail&limit=2&before=${ids[1]}`);
      assert.deepEqual(
        (page3.json["jobs"] as Array<{ id: string }>).map((j) => j.id),
        [ids[0]],
      );
      assert.equal(page3.json["next"], null);
      const scheduled = await call(`${base}/api/jobs?state=scheduled`);
      assert.deepEqual(
        (scheduled.json["jobs"] as Array<{ id: string }>).map((j) => j.id),
        [other.id],
      );
      const byKind = await call(`${base}/api/jobs?kind=api.report`);
      assert.equal((byKind.json["jobs"] as unknown[]).length, 1);

      const one = await call(`${base}/api/jobs/${ids[0]}`);
      assert.equal(one.status, 200);
      assert.deepEqual((one.json["job"] as { payload: unknown }).payload, { i: 0 });
      assert.equal((await call(`${base}/api/jobs/999999999`)).status, 404);
      const bad = await call(`${base}/api/jobs?state=nope`);
      assert.equal(bad.status, 400);
      assert.equal(errorCode(bad), "TEND_E_ADMIN_BAD_REQUEST");
      assert.equal((await call(`${base}/api/jobs?limit=0`)).status, 400);
      assert.equal((await call(`${base}/api/jobs?before=x`)).status, 400);
      assert.equal((await call(`${base}/api/jobs/abc`)).status, 400);

      for (const [method, path] of [
        ["POST", `/api/jobs/${ids[0]}/cancel`],
        ["POST", `/api/jobs/${ids[0]}/retry`],
        ["DELETE", `/api/jobs/${ids[0]}`],
        ["POST", "/api/jobs"],
      ] as const) {
        const refused = await call(`${base}${path}`, { method, token: TOKEN, body: { kind: "api.mail" } });
        assert.equal(refused.status, 403, `${method} ${path}`);
        assert.equal(errorCode(refused), "TEND_E_ADMIN_READ_ONLY");
      }
      assert.equal((await app.jobs.get(ids[0]!))?.state, "available", "nothing changed");
      assert.deepEqual((await call(`${base}/api/audit`)).json["entries"], []);

      // This process registered itself (its first heartbeat is written as it starts).
      const me = await waitFor(
        async () => {
          const workers = (await call(`${base}/api/workers`)).json["workers"] as Array<{
            id: string;
            pid: number;
            alive: boolean;
            queues: string[];
          }>;
          return workers.find((w) => w.pid === process.pid && w.alive) ?? null;
        },
        { timeoutMs: 10_000, message: "this process in /api/workers" },
      );
      assert.equal(me.id, app.jobs.workerId);
      const convergers = await call(`${base}/api/convergers`);
      assert.deepEqual(convergers.json, { convergers: [], parked: [] });
      const inconsistencies = await call(`${base}/api/convergers/inconsistencies`);
      assert.deepEqual(inconsistencies.json, { inconsistencies: [] });
    });

    it("with a token: cancel, retry, delete and enqueue act, each one audited; a missing or wrong token is 403", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await startApp({ dashboard: true, adminToken: TOKEN }, t);
      const { id } = await app.enqueue("api.act", { n: 1 }, { queue: "acts" });

      const noToken = await call(`${base}/api/jobs/${id}/cancel`, { method: "POST" });
      assert.equal(noToken.status, 403);
      assert.equal(errorCode(noToken), "TEND_E_ADMIN_FORBIDDEN");
      const wrong = await call(`${base}/api/jobs/${id}/cancel`, { method: "POST", token: `${TOKEN}x` });
      assert.equal(wrong.status, 403);
      assert.equal(errorCode(wrong), "TEND_E_ADMIN_FORBIDDEN");
      assert.equal((await app.jobs.get(id))?.state, "available");

      const cancelled = await call(`${base}/api/jobs/${id}/cancel`, { method: "POST", token: TOKEN });
      assert.equal(cancelled.status, 200);
      assert.equal((cancelled.json["job"] as { state: string }).state, "cancelled");
      const retried = await call(`${base}/api/jobs/${id}/retry`, { method: "POST", token: TOKEN });
      assert.equal(retried.status, 200);
      assert.equal((await app.jobs.get(id))?.state, "available");

      const enqueued = await call(`${base}/api/jobs`, {
        method: "POST",
        token: TOKEN,
        body: { kind: "api.remote", payload: { from: "python" }, options: { queue: "remote", priority: 3 } },
      });
      assert.equal(enqueued.status, 201, JSON.stringify(enqueued.json));
      const newId = String(enqueued.json["id"]);
      const stored = await app.jobs.get(newId);
      assert.equal(stored?.queue, "remote");
      assert.equal(stored?.priority, 3);
      assert.deepEqual(stored?.payload, { from: "python" });

      // enqueue's own validation answers 400 with its code.
      const badOption = await call(`${base}/api/jobs`, {
        method: "POST",
        token: TOKEN,
        body: { kind: "api.remote", options: { priority: "high" } },
      });
      assert.equal(badOption.status, 400);
      assert.equal(errorCode(badOption), "TEND_E_INVALID_JOB_OPTIONS");
      const unknownOption = await call(`${base}/api/jobs`, {
        method: "POST",
        token: TOKEN,
        body: { kind: "api.remote", options: { colour: "blue" } },
      });
      assert.equal(errorCode(unknownOption), "TEND_E_UNKNOWN_OPTION");
      const notJson = await fetch(`${base}/api/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, connection: "close" },
        body: "{not json",
      });
      assert.equal(notJson.status, 400);
      await notJson.body?.cancel();

      const deleted = await call(`${base}/api/jobs/${id}`, { method: "DELETE", token: TOKEN });
      assert.equal(deleted.status, 200);
      assert.equal(await app.jobs.get(id), null);
      const again = await call(`${base}/api/jobs/${id}`, { method: "DELETE", token: TOKEN });
      assert.equal(again.status, 404);

      const audit = await call(`${base}/api/audit?limit=3`);
      const entries = audit.json["entries"] as Array<Record<string, unknown>>;
      assert.equal(entries.length, 3);
      assert.deepEqual(
        entries.map((e) => [e["action"], e["outcome"]]),
        [
          ["job.delete", "TEND_E_ADMIN_NOT_FOUND"],
          ["job.delete", "ok"],
          ["job.enqueue", "TEND_E_ADMIN_BAD_REQUEST"],
        ],
      );
      assert.equal(entries[1]?.["target"], `job:${id}`);
      assert.match(String(entries[1]?.["tokenId"]), /^[0-9a-f]{16}$/);
      assert.ok(!JSON.stringify(audit.json).includes(TOKEN), "the token itself is never stored");
      const rest = await call(`${base}/api/audit?limit=50&before=${String(audit.json["next"])}`);
      assert.deepEqual(
        (rest.json["entries"] as Array<Record<string, unknown>>).map((e) => [e["action"], e["outcome"]]),
        [
          ["job.enqueue", "TEND_E_UNKNOWN_OPTION"],
          ["job.enqueue", "TEND_E_INVALID_JOB_OPTIONS"],
          ["job.enqueue", "ok"],
          ["job.retry", "ok"],
          ["job.cancel", "ok"],
        ],
      );
      assert.equal(rest.json["next"], null);
    });

    it("/ui renders the overview, the jobs list and a job with every value escaped; buttons only with a token", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const evil = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';
      for (const adminToken of [undefined, TOKEN]) {
        const { app, base } = await startApp(
          adminToken === undefined ? { dashboard: true } : { dashboard: true, adminToken },
          t,
        );
        const { id } = await app.enqueue(
          "ui.kind",
          { note: evil },
          { queue: "ui", uniqueKey: `<u>key</u>${String(adminToken)}` },
        );
        const overview = await fetch(`${base}/ui`, { headers: { connection: "close" } });
        assert.equal(overview.status, 200);
        assert.match(String(overview.headers.get("content-security-policy")), /script-src 'self'/);
        const overviewText = await overview.text();
        assert.match(
          overviewText,
          new RegExp(`data-count="ui:available">${adminToken === undefined ? 1 : 2}<`),
        );
        // All-time counts of final states: exact on this small table.
        assert.match(overviewText, /data-total="ui:completed"\s*>0</);
        assert.match(overviewText, /all time,\s*exact/);
        const list = await (await fetch(`${base}/ui/jobs?queue=ui&kind=ui.kind`)).text();
        assert.match(list, new RegExp(`href="/ui/jobs/${id}"`));
        const page = await (await fetch(`${base}/ui/jobs/${id}`)).text();
        assert.ok(!page.includes("<script>window"), "the payload's script tag is escaped");
        assert.ok(!page.includes("<img src=x"), "the payload's img tag is escaped");
        assert.match(page, /&lt;script&gt;window\.pwned=1&lt;\/script&gt;/);
        assert.match(page, /&lt;u&gt;key&lt;\/u&gt;/);
        assert.equal(page.includes(`data-url="/api/jobs/${id}/cancel"`), adminToken !== undefined);
        assert.equal((await fetch(`${base}/ui/jobs/424242424`)).status, 404);
        assert.equal((await fetch(`${base}/ui/jobs?state=bogus`)).status, 400);
        const css = await fetch(`${base}/ui/style.css`);
        assert.match(String(css.headers.get("content-type")), /text\/css/);
        assert.match(await css.text(), /prefers-color-scheme: dark/);
        await app.close();
      }
    });

    it("a running job is not deleted (409); bad http options fail createApp", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await startApp({ dashboard: true, adminToken: TOKEN }, t);
      const { id } = await app.enqueue("api.held", {}, { queue: "held" });
      const store = await app.store();
      const [claimed] = await store.jobs.claim({
        queue: "held",
        limit: 1,
        workerId: "test",
        leaseMs: 60_000,
      });
      assert.equal(claimed?.id, id);
      const refused = await call(`${base}/api/jobs/${id}`, { method: "DELETE", token: TOKEN });
      assert.equal(refused.status, 409);
      assert.equal(errorCode(refused), "TEND_E_ADMIN_CONFLICT");
      assert.equal((await app.jobs.get(id))?.state, "running");

      for (const http of [
        { port: 0, adminToken: "short" },
        { port: 0, adminToken: TOKEN },
        { port: 0, dashboard: "yes" },
      ]) {
        assert.throws(() => createApp({ database: backend!.url, http } as never), {
          code: "TEND_E_INVALID_HTTP_OPTIONS",
        });
      }
    });

    it("a bulk retry that meets a held unique key retries every other job one at a time, ids of any length", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app } = await startApp({}, t);
      const store = await app.store();
      // Cancelled jobs whose ids run past the next power of ten (where an id's text sorts apart
      // from its number), the last of them holding a unique key that a pending job then takes: the
      // first batch (the highest ids) hits the held key and goes one job at a time.
      const first = Number((await app.enqueue("bulk.fb", { i: 0 }, { queue: "fb" })).id);
      let power = 10 ** String(first).length;
      if (power - first < 8) power *= 10;
      const rest = power + 2 - first;
      await app.jobs.enqueueMany(
        Array.from({ length: rest - 1 }, (_, i) => ({ kind: "bulk.fb", payload: { i: i + 1 }, queue: "fb" })),
      );
      const held = await app.enqueue("bulk.fb", { last: true }, { queue: "fb", uniqueKey: "fb-held" });
      assert.ok(Number(held.id) > power, `ids run past ${power} (last ${held.id})`);
      assert.deepEqual(await store.admin.runBulk("cancel", { queue: "fb" }), { count: rest + 1, skipped: 0 });
      await app.enqueue("bulk.fb", {}, { queue: "fb-holder", uniqueKey: "fb-held" });
      const outcome = await store.admin.runBulk("retry", { queue: "fb" }, { batchSize: 4 });
      assert.deepEqual(outcome, { count: rest, skipped: 1 });
      assert.equal((await store.jobs.list({ queue: "fb", state: "available", limit: 10_000 })).length, rest);
      assert.equal((await app.jobs.get(held.id))?.state, "cancelled");
    });

    it("bulk actions: the count first, then bounded batches on both drivers, audited with the count", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await startApp({ dashboard: true, adminToken: TOKEN }, t);
      const store = await app.store();
      for (let i = 0; i < 25; i++) await app.enqueue("bulk.later", { i }, { queue: "bulk", delay: "1h" });
      for (let i = 0; i < 3; i++) await app.enqueue("bulk.now", { i }, { queue: "bulk" });

      const preview = await call(`${base}/api/jobs/bulk/cancel?state=scheduled&queue=bulk`);
      assert.equal(preview.status, 200);
      assert.equal(preview.json["count"], 25);
      assert.equal(
        (await call(`${base}/api/jobs/bulk/retry?queue=bulk`)).json["count"],
        0,
        "nothing final yet",
      );
      assert.equal((await call(`${base}/api/jobs/bulk/delete?kind=bulk.now`)).json["count"], 3);

      // Batches of 7: 25 jobs take four, each its own transaction.
      const outcome = await store.admin.runBulk(
        "cancel",
        { state: "scheduled", queue: "bulk" },
        { batchSize: 7 },
      );
      assert.deepEqual(outcome, { count: 25, skipped: 0 });
      assert.equal(await store.admin.countBulk("cancel", { state: "scheduled", queue: "bulk" }), 0);
      const cancelled = await store.jobs.list({ queue: "bulk", state: "cancelled", limit: 100 });
      assert.equal(cancelled.length, 25);
      assert.equal((await store.jobs.list({ queue: "bulk", state: "available", limit: 100 })).length, 3);

      const retried = await call(`${base}/api/jobs/bulk/retry`, {
        method: "POST",
        token: TOKEN,
        body: { queue: "bulk", state: "cancelled" },
      });
      assert.equal(retried.status, 200, JSON.stringify(retried.json));
      assert.equal(retried.json["count"], 25);
      assert.equal((await store.jobs.list({ queue: "bulk", state: "available", limit: 100 })).length, 28);

      // A retry whose unique key another pending job holds is skipped, not failed.
      const a = await app.enqueue("bulk.unique", {}, { queue: "uq", uniqueKey: "only-one" });
      await store.jobs.cancel(a.id);
      const b = await app.enqueue("bulk.unique", {}, { queue: "uq", uniqueKey: "only-one" });
      assert.notEqual(a.id, b.id);
      const free = await app.enqueue("bulk.unique", {}, { queue: "uq" });
      await store.jobs.cancel(free.id);
      const uniq = await call(`${base}/api/jobs/bulk/retry`, {
        method: "POST",
        token: TOKEN,
        body: { queue: "uq" },
      });
      assert.deepEqual([uniq.json["count"], uniq.json["skipped"]], [1, 1]);
      assert.equal((await app.jobs.get(a.id))?.state, "cancelled");
      assert.equal((await app.jobs.get(free.id))?.state, "available");

      const deleted = await call(`${base}/api/jobs/bulk/delete`, {
        method: "POST",
        token: TOKEN,
        body: { queue: "bulk" },
      });
      assert.equal(deleted.json["count"], 28);
      assert.equal((await store.jobs.list({ queue: "bulk", limit: 10 })).length, 0);

      for (const [path, body] of [
        ["/api/jobs/bulk/cancel", {}],
        ["/api/jobs/bulk/cancel", { state: "nope" }],
        ["/api/jobs/bulk/cancel", { colour: "red" }],
      ] as const) {
        const bad = await call(`${base}${path}`, { method: "POST", token: TOKEN, body });
        assert.equal(bad.status, 400, JSON.stringify(body));
        assert.equal(errorCode(bad), "TEND_E_ADMIN_BAD_REQUEST");
      }
      assert.equal((await call(`${base}/api/jobs/bulk/explode?queue=x`)).status, 400);
      assert.equal((await call(`${base}/api/jobs/bulk/cancel`)).status, 400, "a filter is required");
      const refused = await call(`${base}/api/jobs/bulk/cancel`, { method: "POST", body: { queue: "uq" } });
      assert.equal(refused.status, 403);
      await assert.rejects(store.admin.runBulk("cancel", {}), { code: "TEND_E_INVALID_STORE_ARGUMENT" });

      const audit = await call(`${base}/api/audit?limit=50`);
      const entries = (audit.json["entries"] as Array<Record<string, unknown>>).filter((e) =>
        String(e["action"]).startsWith("jobs.bulk."),
      );
      assert.deepEqual(
        entries.slice(-3).map((e) => [e["action"], e["target"], e["outcome"], e["detail"]]),
        [
          ["jobs.bulk.delete", "jobs?queue=bulk", "ok", { count: 28, skipped: 0 }],
          ["jobs.bulk.retry", "jobs?queue=uq", "ok", { count: 1, skipped: 1 }],
          ["jobs.bulk.retry", "jobs?state=cancelled&queue=bulk", "ok", { count: 25, skipped: 0 }],
        ],
      );
    });

    it("the login form sets an HttpOnly SameSite=Strict cookie that acts only from this server's pages", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await startApp({ dashboard: true, adminToken: TOKEN }, t);
      const { id } = await app.enqueue("api.login", {}, { queue: "login", delay: "1h" });
      const login = (token: string, origin?: string) =>
        fetch(`${base}/ui/login`, {
          method: "POST",
          redirect: "manual",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            connection: "close",
            ...(origin === undefined ? {} : { origin }),
          },
          body: new URLSearchParams({ token }).toString(),
        });
      assert.equal((await login(`${TOKEN}x`, base)).status, 403, "wrong token");
      assert.equal((await login(TOKEN)).status, 403, "no Origin: a login from another site is refused");
      assert.equal((await login(TOKEN, "http://evil.example")).status, 403);
      const ok = await login(TOKEN, base);
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.get("location"), "/ui");
      const setCookie = String(ok.headers.get("set-cookie"));
      assert.match(
        setCookie,
        /^tend_admin=\d+\.[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
      );
      assert.ok(!setCookie.includes(TOKEN), "the token is not in the cookie");
      const cookie = setCookie.split(";")[0]!;

      const act = (headers: Record<string, string>) =>
        fetch(`${base}/api/jobs/${id}/cancel`, {
          method: "POST",
          headers: { connection: "close", ...headers },
        });
      const noOrigin = await act({ cookie });
      assert.equal(noOrigin.status, 403);
      assert.equal(
        ((await noOrigin.json()) as { error: { code: string } }).error.code,
        "TEND_E_ADMIN_FORBIDDEN",
      );
      assert.equal((await act({ cookie, origin: "http://evil.example" })).status, 403);
      assert.equal(
        (
          await act({
            cookie: "tend_admin=99999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            origin: base,
          })
        ).status,
        403,
      );
      assert.equal((await app.jobs.get(id))?.state, "scheduled", "nothing was done");
      const done = await act({ cookie, origin: base });
      assert.equal(done.status, 200);
      assert.equal((await app.jobs.get(id))?.state, "cancelled");
      // More than 9 entries: ids 10 and up sort after 9 as numbers, not as text.
      const entries = (await call(`${base}/api/audit?limit=1`)).json["entries"] as Array<
        Record<string, unknown>
      >;
      assert.deepEqual([entries[0]?.["action"], entries[0]?.["outcome"]], ["job.cancel", "ok"]);

      const page = await (await fetch(`${base}/ui`, { headers: { cookie, connection: "close" } })).text();
      assert.match(page, /data-session="1"/);
      assert.match(page, /action="\/ui\/logout"/);
      const out = await fetch(`${base}/ui/logout`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, origin: base, connection: "close" },
      });
      assert.equal(out.status, 303);
      assert.match(String(out.headers.get("set-cookie")), /^tend_admin=; .*Max-Age=0$/);
    });

    it("answers only localhost names on a loopback address; refuses NUL bytes; every error has a code", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await startApp(
        { dashboard: true, adminToken: TOKEN, allowedHosts: ["tend.internal"] },
        t,
      );
      const { port } = new URL(base);
      // fetch() sets Host itself: node:http lets a test name another host, as a rebound page would.
      const withHost = (host: string) =>
        new Promise<Answer>((resolve, reject) => {
          const req = httpRequest(
            { host: "127.0.0.1", port, path: "/api/jobs", headers: { host, connection: "close" } },
            (res) => {
              let text = "";
              res.setEncoding("utf8").on("data", (c: string) => (text += c));
              res.on("end", () =>
                resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }),
              );
            },
          );
          req.on("error", reject);
          req.end();
        });
      const rebound = await withHost(`evil.example:${port}`);
      assert.equal(rebound.status, 403);
      assert.equal(errorCode(rebound), "TEND_E_HTTP_HOST_NOT_ALLOWED");
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `TEND.internal:${port}`])
        assert.equal((await withHost(host)).status, 200, host);

      // PostgreSQL refuses NUL in text: a 400 on both drivers, never a 500.
      for (const path of ["/api/jobs?queue=%00", "/api/jobs?q=a%00b", "/ui/convergers?key=%00"])
        assert.equal(errorCode(await call(`${base}${path}`)), "TEND_E_ADMIN_BAD_REQUEST", path);
      const nulPause = await call(`${base}/api/queues/a%00/pause`, { method: "POST", token: TOKEN });
      assert.deepEqual([nulPause.status, errorCode(nulPause)], [400, "TEND_E_ADMIN_BAD_REQUEST"]);

      const orphan = await call(`${base}/api/jobs`, {
        method: "POST",
        token: TOKEN,
        body: { kind: "api.child", options: { after: ["999999"] } },
      });
      assert.deepEqual([orphan.status, errorCode(orphan)], [400, "TEND_E_JOB_PARENT_NOT_FOUND"]);
      // A retry or cancel that would change nothing is a conflict, not a success.
      const { id: waiting } = await app.enqueue("api.idle", {}, { queue: "idle", delay: "1h" });
      const retryPending = await call(`${base}/api/jobs/${waiting}/retry`, { method: "POST", token: TOKEN });
      assert.deepEqual([retryPending.status, errorCode(retryPending)], [409, "TEND_E_ADMIN_CONFLICT"]);
      assert.equal(
        (await call(`${base}/api/jobs/${waiting}/cancel`, { method: "POST", token: TOKEN })).status,
        200,
      );
      const cancelAgain = await call(`${base}/api/jobs/${waiting}/cancel`, { method: "POST", token: TOKEN });
      assert.deepEqual([cancelAgain.status, errorCode(cancelAgain)], [409, "TEND_E_ADMIN_CONFLICT"]);
      assert.equal(
        (await call(`${base}/api/jobs/${waiting}/retry`, { method: "POST", token: TOKEN })).status,
        200,
      );
      const nowhere = await call(`${base}/api/nope`);
      assert.deepEqual([nowhere.status, errorCode(nowhere)], [404, "TEND_E_HTTP_NOT_FOUND"]);
      const put = await fetch(`${base}/api/jobs/1`, { method: "PUT", headers: { connection: "close" } });
      assert.equal(put.status, 405);
      assert.equal(
        ((await put.json()) as { error: { code: string } }).error.code,
        "TEND_E_HTTP_METHOD_NOT_ALLOWED",
      );
      await app.close();
    });

    it("hidden payloads hide progress and keys too; a login cookie acts behind a proxy's Basic login", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await startApp({ dashboard: { hidePayloads: true }, adminToken: TOKEN }, t);
      const { id } = await app.enqueue(
        "api.private",
        { to: "alice@example.com" },
        {
          queue: "private",
          delay: "1h",
          uniqueKey: "mail:alice@example.com",
          concurrencyKey: "tenant:alice@example.com",
        },
      );
      const shown = (await call(`${base}/api/jobs/${id}`)).json["job"] as Record<string, unknown>;
      assert.deepEqual(
        [
          shown["payload"],
          shown["progress"],
          shown["uniqueKey"],
          shown["concurrencyKey"],
          shown["payloadHidden"],
        ],
        [null, null, null, null, true],
      );
      assert.ok(!JSON.stringify(await call(`${base}/api/jobs?queue=private`)).includes("alice"));

      const login = await fetch(`${base}/ui/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: base, connection: "close" },
        body: new URLSearchParams({ token: TOKEN }).toString(),
      });
      const cookie = String(login.headers.get("set-cookie")).split(";")[0]!;
      const cancel = await fetch(`${base}/api/jobs/${id}/cancel`, {
        method: "POST",
        headers: { cookie, origin: base, authorization: "Basic dXNlcjpwYXNz", connection: "close" },
      });
      assert.equal(cancel.status, 200);
      assert.equal((await app.jobs.get(id))?.state, "cancelled");
      const wrongBearer = await fetch(`${base}/api/jobs/${id}/retry`, {
        method: "POST",
        headers: { cookie, origin: base, authorization: "Bearer not-the-token", connection: "close" },
      });
      assert.equal(wrongBearer.status, 403, "a Bearer header is always checked as the token");
      await app.close();
    });

    it("the overview's last hour: /api/activity and /ui show enqueued and finished jobs per queue, with charts", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app, base } = await startApp({ dashboard: true }, t);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await app.enqueue("hour.kind", { i }, { queue: "hour" })).id);
      await (await app.store()).jobs.cancel(ids[0]!);
      const answer = await call(`${base}/api/activity`);
      assert.equal(answer.status, 200);
      const queues = answer.json["queues"] as Array<{
        queue: string;
        total: Record<string, number>;
        backlog: number[];
        enqueued: number[];
      }>;
      const hour = queues.find((q) => q.queue === "hour");
      assert.ok(hour, JSON.stringify(answer.json));
      assert.deepEqual(hour.total, { enqueued: 3, completed: 0, discarded: 0, cancelled: 1 });
      assert.equal(hour.enqueued.length, 60);
      assert.equal(hour.backlog.at(-1), 2, "the backlog now is the pending jobs");
      assert.equal(hour.backlog[0], 0, "an hour ago there was none");
      const page = await (await fetch(`${base}/ui`, { headers: { connection: "close" } })).text();
      assert.match(page, /data-hour="hour:enqueued">3</);
      assert.match(page, /data-hour="hour:cancelled"\s*>1</);
      assert.match(page, /<svg\s+class="chart"[^>]*role="img"\s+aria-label="hour: jobs per minute/);
    });

    it("the jobs list searches text and a creation time range, in bounded pages; hidden payloads are never searched", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      for (const hidePayloads of [false, true]) {
        const { app, base } = await startApp({ dashboard: hidePayloads ? { hidePayloads } : true }, t);
        const needle = `needle-${String(hidePayloads)}`;
        const { id } = await app.enqueue("search.kind", { to: `${needle}@example.com` }, { queue: "search" });
        const hit = await call(`${base}/api/jobs?q=${needle.toUpperCase()}`);
        assert.equal(hit.status, 200);
        assert.deepEqual(
          (hit.json["jobs"] as Array<{ id: string }>).map((j) => j.id),
          hidePayloads ? [] : [id],
        );
        const job = (await call(`${base}/api/jobs/${id}`)).json["job"] as { createdAt: string };
        const created = Date.parse(job.createdAt);
        const inRange = await call(
          `${base}/api/jobs?queue=search&from=${new Date(created - 1000).toISOString()}&to=${new Date(created + 1000).toISOString()}`,
        );
        assert.ok((inRange.json["jobs"] as Array<{ id: string }>).some((j) => j.id === id));
        const before = await call(
          `${base}/api/jobs?queue=search&to=${new Date(created - 60_000).toISOString()}`,
        );
        assert.deepEqual(before.json["jobs"], []);
        assert.equal(before.json["next"], null);
        const page = await (await fetch(`${base}/ui/jobs?q=${needle}&from=2020-01-01T00:00Z`)).text();
        assert.match(page, new RegExp(`name="q" type="search" value="${needle}"`));
        for (const bad of ["from=yesterday", "to=2026-13-45T00:00Z", `q=${"x".repeat(201)}`])
          assert.equal((await call(`${base}/api/jobs?${bad}`)).status, 400, bad);
        await app.close();
      }
    });

    it("a filtered page searches a bounded window of ids; following next finds every match", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { app } = await startApp({ dashboard: true }, t);
      const store = await app.store();
      const rare: string[] = [];
      for (let i = 0; i < 30; i++) {
        const kind = i === 2 || i === 26 ? "window.rare" : "window.common";
        const { id } = await app.enqueue(kind, { i }, { queue: "window" });
        if (kind === "window.rare") rare.unshift(id);
      }
      const found: string[] = [];
      let before: string | undefined;
      let short = 0;
      for (let pages = 0; pages < 1000; pages++) {
        const page = await listPage(
          store,
          { kind: "window.rare", limit: 5, ...(before === undefined ? {} : { beforeId: before }) },
          10,
        );
        for (const j of page.items) {
          assert.equal(j.kind, "window.rare");
          if (page.searchedTo !== null) assert.ok(BigInt(j.id) >= BigInt(page.searchedTo));
        }
        found.push(...page.items.map((j) => j.id));
        if (page.searchedTo !== null) short++;
        if (page.next === null) break;
        before = page.next;
      }
      assert.deepEqual(found, rare);
      assert.ok(short >= 2, `${short} windowed pages`);
      const unfiltered = await listPage(store, { limit: 5 }, 10);
      assert.equal(unfiltered.items.length, 5);
      assert.equal(unfiltered.searchedTo, null, "an unfiltered page is never windowed");
    });
  });
}
