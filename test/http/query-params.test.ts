import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../src/app.ts";
import { API_DOCS } from "../../src/http/api/openapi.ts";
import { Manager } from "../../src/lifecycle/manager.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { type Backend, createBackend } from "../support/backends.ts";

const TOKEN = "admin-token-for-tests-0123456789";

interface Answer {
  status: number;
  type: string;
  body: string;
  json: Record<string, unknown>;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { ...init, headers: { connection: "close", ...init.headers } });
  const body = await res.text();
  const type = res.headers.get("content-type") ?? "";
  return {
    status: res.status,
    type,
    body,
    json: type.startsWith("application/json") ? (JSON.parse(body) as Record<string, unknown>) : {},
  };
}

function errorOf(answer: Answer): { code?: string; message?: string } {
  return (answer.json["error"] ?? {}) as { code?: string; message?: string };
}

describe("the admin API's query parameters (a real app on SQLite)", () => {
  let backend: Backend | null;
  let base: string;
  let manager: Manager;
  let cancelled: string;

  before(async () => {
    backend = await createBackend("sqlite");
    const capture = captureLog();
    const app = createApp({
      database: backend!.url,
      log: capture.log,
      http: { port: 0, dashboard: true, adminToken: TOKEN },
      jobs: { queues: {} },
    });
    manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
    await app.start(manager);
    base = app.httpAddress!;
    await app.enqueue("q.report", { n: 1 }, { queue: "work", delay: "1h" });
    const other = await app.enqueue("q.mail", { n: 2 }, { queue: "work" });
    const store = await app.store();
    await store.jobs.cancel(other.id);
    cancelled = other.id;
  });
  after(async () => {
    await manager?.stop();
    await backend?.cleanup();
  });

  it("an unknown parameter (a typo of a filter) is refused, naming it and the accepted ones", async () => {
    for (const path of ["/api/jobs?status=discarded", "/api/jobs/bulk/retry?status=discarded"]) {
      const answer = await call(`${base}${path}`);
      assert.equal(answer.status, 400, `${path}: ${answer.body}`);
      const error = errorOf(answer);
      assert.equal(error.code, "TEND_E_ADMIN_BAD_REQUEST", path);
      assert.match(String(error.message), /Unknown query parameter "status" \(value "discarded"\)/, path);
      assert.match(String(error.message), /"state", "queue", "kind"/, path);
    }
    const jobs = errorOf(await call(`${base}/api/jobs?status=discarded`)).message;
    assert.match(String(jobs), /"from", "to", "q", "limit", "before"/, "the jobs list names all it takes");
    // Routes without parameters, and actions, take none.
    for (const [path, method] of [
      ["/api/queues?x=1", "GET"],
      ["/api/jobs/1?verbose=1", "GET"],
      ["/api/events?job=1&since=2", "GET"],
      ["/api/queues/work/pause?now=1", "POST"],
    ] as const) {
      const answer = await call(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(answer.status, 400, `${method} ${path}: ${answer.body}`);
      assert.equal(errorOf(answer).code, "TEND_E_ADMIN_BAD_REQUEST", path);
    }
    const paused = await call(`${base}/api/queues/details`);
    const work = (paused.json["queues"] as Array<{ queue: string; paused: boolean }>).find(
      (q) => q.queue === "work",
    );
    assert.equal(work?.paused ?? false, false, "the refused action did nothing");
  });

  it("a repeated parameter is refused on every route alike", async () => {
    for (const path of [
      "/api/jobs?state=cancelled&state=completed",
      "/api/jobs/bulk/retry?state=cancelled&state=completed",
      "/api/audit?limit=1&limit=2",
      "/api/jobs?queue=work&queue=",
    ]) {
      const answer = await call(`${base}${path}`);
      assert.equal(answer.status, 400, `${path}: ${answer.body}`);
      assert.equal(errorOf(answer).code, "TEND_E_ADMIN_BAD_REQUEST", path);
      assert.match(String(errorOf(answer).message), /is given more than once/, path);
    }
  });

  it("a time range that ends before it starts is refused, on the API and the page", async () => {
    const range = "from=2026-12-02T13:00Z&to=2026-12-01T13:00Z";
    const answer = await call(`${base}/api/jobs?${range}`);
    assert.equal(answer.status, 400, answer.body);
    assert.equal(errorOf(answer).code, "TEND_E_ADMIN_BAD_REQUEST");
    assert.match(
      String(errorOf(answer).message),
      /Invalid from: got "2026-12-02T13:00Z".*no later than `to`/,
    );
    const page = await call(`${base}/ui/jobs?${range}`);
    assert.equal(page.status, 400);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /Bad request/);
    // The same instant at both ends is an empty range, not a mistake.
    const same = await call(`${base}/api/jobs?from=2026-12-02T13:00Z&to=2026-12-02T13:00Z`);
    assert.equal(same.status, 200, same.body);
  });

  it("what the dashboard and the docs send still works; the OpenAPI description lists what is accepted", async () => {
    const listed = await call(`${base}/api/jobs?state=cancelled&queue=work&limit=10`);
    assert.equal(listed.status, 200, listed.body);
    assert.deepEqual(
      (listed.json["jobs"] as Array<{ id: string }>).map((j) => j.id),
      [cancelled],
    );
    // The bulk form's count (app.js sends state, queue and kind, empty ones left out).
    const count = await call(`${base}/api/jobs/bulk/cancel?state=scheduled&queue=work`);
    assert.equal(count.status, 200, count.body);
    assert.equal(count.json["count"], 1);
    const empty = await call(`${base}/api/jobs?state=&queue=work&kind=&from=&to=&q=&limit=&before=`);
    assert.equal(empty.status, 200, "empty values are absent, as the list's form sends them");
    const inconsistencies = await call(`${base}/api/convergers/inconsistencies?converger=c&key=k&limit=5`);
    assert.equal(inconsistencies.status, 200, inconsistencies.body);
    // A dashboard page keeps reading what it knows and ignores the rest (links may carry more).
    assert.equal((await call(`${base}/ui/jobs?state=cancelled&utm_source=mail`)).status, 200);

    const doc = (await call(`${base}/api/openapi.json`)).json as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>>;
    };
    for (const [key, route] of Object.entries(API_DOCS)) {
      const [method, path] = key.split(" ") as [string, string];
      const documented = (
        doc.paths[path.replace(/:(\w+)/g, "{$1}")]?.[method.toLowerCase()]?.parameters ?? []
      )
        .filter((p) => p.in === "query")
        .map((p) => p.name);
      assert.deepEqual(documented, [...(route.query ?? [])], key);
    }
  });
});
