import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../src/app.ts";
import { statusOf } from "../../src/http/api/respond.ts";
import { Manager } from "../../src/lifecycle/manager.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { startProxy } from "../support/tcp-proxy.ts";
import { waitFor } from "../support/wait.ts";

const TOKEN = "admin-token-for-tests-0123456789";
const UNAVAILABLE = ["TEND_E_STORE_UNREACHABLE", "TEND_E_STORE_TIMEOUT"];

interface Answer {
  status: number;
  type: string;
  retryAfter: string | null;
  body: string;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { ...init, headers: { connection: "close", ...init.headers } });
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    retryAfter: res.headers.get("retry-after"),
    body: await res.text(),
  };
}

describe("the admin API and dashboard while PostgreSQL cannot be reached", () => {
  let backend: Backend | null;
  before(async () => {
    backend = await createBackend("postgres");
  });
  after(() => backend?.cleanup());

  it("store errors are 503 (not the request's fault, not a bug)", () => {
    for (const code of [...UNAVAILABLE, "TEND_E_STORE_CLOSED"]) assert.equal(statusOf(code), 503, code);
    assert.equal(statusOf("TEND_E_STORE_AUTH_FAILED"), 500);
  });

  it("answers 503 with the store's code, message and Retry-After; pages say the database is unavailable", async (t) => {
    if (backend === null) return t.skip("PostgreSQL unavailable");
    const target = new URL(backend.url);
    const proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5432) });
    let proxyClosed = false;
    t.after(() => (proxyClosed ? undefined : proxy.close()));
    const capture = captureLog();
    const app = createApp({
      database: proxy.via(backend.url),
      log: capture.log,
      http: { port: 0, dashboard: true, adminToken: TOKEN },
      jobs: { queues: {} },
      store: { timeouts: { connect: "1s" } },
    });
    const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
    await app.start(manager);
    t.after(() => manager.stop().catch(() => {}));
    const base = app.httpAddress!;
    assert.equal((await call(`${base}/api/queues`)).status, 200, "up before the cut");

    // Closing the proxy closes every connection through it and refuses new ones: the database
    // is unreachable from the app, as when its server is down.
    await proxy.close();
    proxyClosed = true;
    await waitFor(async () => (await call(`${base}/readyz`)).status === 503, {
      message: "/readyz to see the store down",
      intervalMs: 100,
    });

    const json = { "content-type": "application/json", authorization: `Bearer ${TOKEN}` };
    for (const [path, init] of [
      ["/api/queues", {}],
      ["/api/jobs", {}],
      ["/api/jobs/bulk/cancel?queue=work", {}],
      ["/api/jobs", { method: "POST", headers: json, body: JSON.stringify({ kind: "k" }) }],
    ] as const) {
      const answer = await call(`${base}${path}`, init);
      const what = `${init.method ?? "GET"} ${path}: ${answer.body}`;
      assert.equal(answer.status, 503, what);
      assert.match(answer.type, /^application\/json/, what);
      const error = (JSON.parse(answer.body) as { error: { code: string; message: string } }).error;
      assert.ok(UNAVAILABLE.includes(error.code), what);
      assert.match(error.message, /PostgreSQL/, what);
      assert.equal(answer.retryAfter, "5", what);
    }

    for (const path of ["/ui", "/ui/jobs", "/ui/queues"]) {
      const page = await call(`${base}${path}`, { headers: { accept: "text/html" } });
      assert.equal(page.status, 503, path);
      assert.match(page.type, /^text\/html/, path);
      assert.equal(page.retryAfter, "5", path);
      assert.match(page.body, /<h1>Database unavailable<\/h1>/, path);
      assert.match(page.body, /TEND_E_STORE_(UNREACHABLE|TIMEOUT)/, path);
      assert.match(page.body, /reload this page/, path);
      assert.match(page.body, /<nav>/, `${path}: the dashboard's own layout`);
    }
  });
});
