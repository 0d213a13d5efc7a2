import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobView } from "../../src/http/api/job-view.ts";
import { jobPage, jobsPage } from "../../src/http/ui/pages.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { type CorruptRows, seedCorruptRows } from "../cli/corrupt-job-rows.ts";

const TEND = join(import.meta.dirname, "..", "..", "bin", "tend.js");

/** Starts `tend dashboard` (read-only) as a child process; resolves with its base URL. */
async function startDashboard(database: string, t: { after(fn: () => unknown): void }) {
  const child = spawn(
    process.execPath,
    [TEND, "dashboard", "--database", database, "--listen", "127.0.0.1:0"],
    {
      env: { ...process.env, TEND_LOG_LEVEL: "warn", TEND_LOG_PRETTY: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  let stderr = "";
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      const m = /tend dashboard: (http:\/\/[^\s/]+)\/ui/.exec(stderr);
      if (m !== null) resolve(m[1]!);
    });
    void exited.then(([code]) => reject(new Error(`tend dashboard exited ${code}: ${stderr}`)));
  });
  return { url, logs: () => `${stdout}${stderr}` };
}

async function page(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers: { connection: "close" } });
  return { status: res.status, body: await res.text() };
}

/** The text of the jobs table row linking to one job. */
function rowOf(body: string, id: string): string {
  const row = body.split("<tr>").find((r) => r.includes(`href="/ui/jobs/${id}"`));
  assert.ok(row !== undefined, `no row for job ${id}`);
  return row;
}

for (const driver of ["sqlite", "postgres"] as const) {
  describe(`the dashboard with one corrupt job row on ${driver} (tend dashboard, a real child process)`, () => {
    let backend: Backend | null = null;
    let rows: CorruptRows;
    before(async () => {
      backend = await createBackend(driver);
      if (backend !== null) rows = await seedCorruptRows(backend);
    });
    after(() => backend?.cleanup());

    it("reads a stored time no Date can hold as an invalid Date, on both drivers alike", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const store = await backend.open();
      const job = await store.jobs.get(rows.badTimes);
      assert.ok(job !== null);
      for (const field of ["runAt", "createdAt", "startedAt", "finishedAt"] as const) {
        const value: unknown = job[field];
        assert.ok(value instanceof Date, `${field} is a Date (got ${String(value)})`);
        assert.ok(Number.isNaN(value.getTime()), `${field} is an invalid Date`);
      }
      const listed = await store.jobs.list({ limit: 10 });
      assert.ok(listed.every((j) => j.runAt instanceof Date && j.createdAt instanceof Date));
    });

    it("/ui/jobs lists every job, marking a malformed last error and an invalid time", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const dash = await startDashboard(backend.url, t);
      const list = await page(`${dash.url}/ui/jobs`);
      assert.equal(list.status, 200, dash.logs());
      assert.match(rowOf(list.body, rows.noMessage), /<td>\(malformed error entry\)<\/td>/);
      assert.match(rowOf(list.body, rows.mixed), /<td>real failure<\/td>/);
      assert.match(rowOf(list.body, rows.badTimes), /<td>\(invalid time\)<\/td>/);
      assert.match(rowOf(list.body, rows.good), /<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ<\/td>/);
      assert.equal((await page(`${dash.url}/ui/jobs?state=available`)).status, 200);

      const api = await fetch(`${dash.url}/api/jobs/${rows.badTimes}`);
      assert.equal(api.status, 200);
      const { job } = (await api.json()) as { job: { runAt: unknown; createdAt: unknown } };
      assert.equal(job.runAt, null);
      assert.equal(job.createdAt, null);
    });

    it("/ui/jobs/:id shows malformed error entries as such and invalid times as (invalid time)", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const dash = await startDashboard(backend.url, t);
      const one = await page(`${dash.url}/ui/jobs/${rows.noMessage}`);
      assert.equal(one.status, 200, dash.logs());
      assert.match(
        one.body,
        /<h3>attempt 1 · -<\/h3>\s*<pre>\(malformed error entry: \{&quot;attempt&quot;:1\}\)<\/pre>/,
      );
      assert.doesNotMatch(one.body, /undefined/);

      const mixed = await page(`${dash.url}/ui/jobs/${rows.mixed}`);
      assert.equal(mixed.status, 200, dash.logs());
      assert.equal(mixed.body.match(/\(malformed error entry: /g)?.length, 3);
      assert.match(
        mixed.body,
        /<h3>attempt 2 · 2026-01-02T03:04:05.000Z · TEND_E_X<\/h3>\s*<pre>real failure<\/pre>/,
      );

      const times = await page(`${dash.url}/ui/jobs/${rows.badTimes}`);
      assert.equal(times.status, 200, dash.logs());
      for (const label of ["created", "run at", "started", "finished"])
        assert.match(times.body, new RegExp(`<dt>${label}</dt>\\s*<dd>\\(invalid time\\)</dd>`));
      assert.match(times.body, /<pre id="payload">\{\s*&quot;i&quot;: 3\s*\}<\/pre>/);
    });
  });
}

describe("jobsPage and jobPage with values no driver should return", () => {
  const base: JobView = {
    id: "7",
    kind: "k",
    queue: "q",
    payload: { a: 1 },
    priority: 0,
    state: "retryable",
    runAt: new Date("2026-01-01T00:00:00Z"),
    attempt: 1,
    maxAttempts: 3,
    lost: 0,
    maxLost: 3,
    uniqueKey: null,
    errors: [],
    result: null,
    createdAt: new Date("2026-01-01T00:00:00Z"),
    startedAt: null,
    finishedAt: null,
    workerId: "w1",
    leaseExpiresAt: null,
    cancelRequested: false,
    batchId: null,
    batchIndex: null,
    progress: null,
  };
  // Neither a Date nor null, as an older PostgreSQL driver read ±infinity; entries of any JSON.
  const odd = {
    ...base,
    runAt: Infinity,
    createdAt: "2026-01-01",
    leaseExpiresAt: -Infinity,
    errors: [{ attempt: "z", at: 5, message: "m", stack: 7, code: 9 }, null, ["x"], { message: 1 }],
  } as unknown as JobView;

  it("renders them marked, without throwing", () => {
    const list = jobsPage([odd, base], { next: null, readOnly: true }).text;
    assert.match(list, /<td>\(invalid time\)<\/td>\s*<td>\(malformed error entry\)<\/td>/);
    assert.match(list, /<td>2026-01-01 00:00:00Z<\/td>/);
    const one = jobPage(odd, { readOnly: true }).text;
    assert.match(one, /<dt>run at<\/dt>\s*<dd>\(invalid time\)<\/dd>/);
    assert.match(one, /<dt>created<\/dt>\s*<dd>\(invalid time\)<\/dd>/);
    assert.match(one, /lease until \(invalid time\)/);
    assert.match(one, /<h3>attempt \? · -<\/h3>\s*<pre>m<\/pre>/);
    assert.equal(one.match(/\(malformed error entry: /g)?.length, 3);
  });
});
