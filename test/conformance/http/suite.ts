import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { Counter } from "prom-client";
import { createApp } from "../../../src/app.ts";
import { isTendError } from "../../../src/errors/tend-error.ts";
import { Manager } from "../../../src/lifecycle/manager.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { openOperator } from "../../support/operator.ts";
import { startProxy } from "../../support/tcp-proxy.ts";
import { waitFor } from "../../support/wait.ts";
import { captureLog } from "../../lifecycle/log-capture.ts";

interface Answer {
  status: number;
  body: string;
  json: Record<string, unknown>;
}

async function get(url: string): Promise<Answer> {
  const res = await fetch(url, { headers: { connection: "close" } });
  const body = await res.text();
  let json: Record<string, unknown> = {};
  if ((res.headers.get("content-type") ?? "").startsWith("application/json"))
    json = JSON.parse(body) as Record<string, unknown>;
  return { status: res.status, body, json };
}

/** The value of one sample line of a Prometheus exposition, or undefined. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/**
 * The HTTP surface of a real app over real HTTP on one driver: probes, metrics, graceful close,
 * bad addresses, and a store that stops answering.
 */
export function describeHttp(driver: "sqlite" | "postgres"): void {
  describe(`the HTTP surface on ${driver}`, () => {
    let backend: Backend | null;

    before(async () => {
      backend = await createBackend(driver);
    });
    after(async () => {
      await backend?.cleanup();
    });

    it("serves /healthz, /readyz and /metrics (process defaults, queue gauges, the app's own metrics) on 127.0.0.1", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const capture = captureLog();
      const app = createApp({
        database: backend.url,
        log: capture.log,
        http: { port: 0 },
      });
      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      t.after(() => manager.stop());
      const base = app.httpAddress!;
      assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);

      const health = await get(`${base}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(health.json["status"], "ok");

      const ready = await get(`${base}/readyz`);
      assert.equal(ready.status, 200, ready.body);
      assert.deepEqual(ready.json["checks"], { shutdown: "ok", store: "ok", migrations: "ok" });

      new Counter({ name: "app_signups_total", help: "Signups.", registers: [app.metrics] }).inc(3);
      await app.enqueue("http.nobody", { n: 1 }, { queue: "waiting" });
      const metrics = await get(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      for (const family of [
        "process_cpu_user_seconds_total",
        "process_resident_memory_bytes",
        "nodejs_heap_size_used_bytes",
        "nodejs_eventloop_lag_seconds",
        "nodejs_gc_duration_seconds",
      ]) {
        assert.match(metrics.body, new RegExp(`^# TYPE ${family} `, "m"), family);
      }
      assert.equal(sample(metrics.body, "tend_store_up"), 1);
      assert.equal(sample(metrics.body, 'tend_queue_jobs{queue="waiting",state="available"}'), 1);
      assert.equal(sample(metrics.body, "app_signups_total"), 3);

      const missing = await get(`${base}/nowhere`);
      assert.equal(missing.status, 404);
      const post = await fetch(`${base}/healthz`, { method: "POST" });
      assert.equal(post.status, 405);
      await post.body?.cancel();
    });

    it("/readyz turns 503 the moment shutdown starts while work drains, then the server closes", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const capture = captureLog();
      const app = createApp({
        database: backend.url,
        log: capture.log,
        http: { port: 0 },
        jobs: { pollInterval: 50 },
      });
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let started = false;
      app.job("http.slow", async () => {
        started = true;
        await released;
      });
      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      const base = app.httpAddress!;
      await app.enqueue("http.slow", {});
      await waitFor(() => started, { message: "the slow job to start" });
      assert.equal((await get(`${base}/readyz`)).status, 200);

      const stopped = manager.stop("test");
      const during = await get(`${base}/readyz`);
      assert.equal(during.status, 503);
      assert.equal(during.json["failed"], "shutdown");
      assert.match(
        String((during.json["checks"] as Record<string, string>)["shutdown"]),
        /shutting down: test/,
      );
      assert.equal((await get(`${base}/healthz`)).status, 200, "alive while draining");
      release();
      await stopped;
      await assert.rejects(get(`${base}/healthz`), "the server is closed once the app stopped");
    });

    it("a port in use or a bad host fails start with TEND_E_HTTP_LISTEN naming the address; bad options fail createApp", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const capture = captureLog();
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
      const port = (blocker.address() as { port: number }).port;
      for (const [http, address] of [
        [{ port }, `127.0.0.1:${port}`],
        [{ port: 0, host: "no-such-host.invalid" }, "no-such-host.invalid:0"],
        [{ port: 0, host: "192.0.2.1" }, "192.0.2.1:0"],
      ] as const) {
        const app = createApp({ database: backend.url, log: capture.log, http });
        const manager = new Manager({ log: capture.log, shutdownTimeout: "5s" });
        await assert.rejects(app.start(manager), (err: unknown) => {
          assert.ok(isTendError(err, "TEND_E_HTTP_LISTEN"), String(err));
          assert.ok(err.message.includes(address), err.message);
          return true;
        });
        await manager.stop();
      }
      for (const http of [
        { port: -1 },
        { port: 70_000 },
        { port: "80" },
        { port: 1, host: "" },
        { port: 1, host: "a b" },
      ]) {
        assert.throws(
          () => createApp({ database: backend!.url, log: capture.log, http: http as never }),
          (err: unknown) => isTendError(err, "TEND_E_INVALID_HTTP_OPTIONS"),
          JSON.stringify(http),
        );
      }
      assert.throws(
        () => createApp({ database: backend!.url, log: capture.log, http: { port: 1, hots: "x" } as never }),
        (err: unknown) => isTendError(err, "TEND_E_UNKNOWN_OPTION"),
      );
    });

    if (driver === "postgres") {
      it("/readyz says the store failed and /metrics still answers with tend_store_up 0 when PostgreSQL is unreachable", async (t) => {
        if (backend === null) return t.skip("PostgreSQL unavailable");
        const target = new URL(backend.url);
        const proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5432) });
        let proxyClosed = false;
        t.after(() => (proxyClosed ? undefined : proxy.close()));
        const capture = captureLog();
        const app = createApp({
          database: proxy.via(backend.url),
          log: capture.log,
          http: { port: 0 },
          store: { timeouts: { connect: "1s" } },
        });
        const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
        await app.start(manager);
        t.after(() => manager.stop().catch(() => {}));
        const base = app.httpAddress!;
        assert.equal((await get(`${base}/readyz`)).status, 200);
        assert.equal(sample((await get(`${base}/metrics`)).body, "tend_store_up"), 1);
        await proxy.close();
        proxyClosed = true;
        const down = await waitFor(
          async () => {
            const answer = await get(`${base}/readyz`);
            return answer.status === 503 ? answer : null;
          },
          { message: "/readyz to see the store down", intervalMs: 100 },
        );
        assert.equal(down.json["failed"], "store");
        const metrics = await waitFor(
          async () => {
            const answer = await get(`${base}/metrics`);
            return sample(answer.body, "tend_store_up") === 0 ? answer : null;
          },
          { message: "tend_store_up 0", intervalMs: 200 },
        );
        assert.equal(metrics.status, 200);
        assert.match(metrics.body, /^process_resident_memory_bytes /m);
      });
    }
    it("/readyz names the migrations when the database is behind", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const capture = captureLog();
      const app = createApp({ database: backend.url, log: capture.log, http: { port: 0 } });
      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      t.after(() => manager.stop());
      assert.equal((await get(`${app.httpAddress}/readyz`)).status, 200);
      const op = await openOperator(backend);
      t.after(() => op.close());
      // The last test of the file: it leaves the database behind.
      const table = driver === "sqlite" ? "tend_migrations" : "tend.migrations";
      await op.exec(`DELETE FROM ${table} WHERE component = 'jobs' AND version = 1`);
      const behind = await waitFor(
        async () => {
          const answer = await get(`${app.httpAddress}/readyz`);
          return answer.status === 503 ? answer : null;
        },
        { message: "/readyz to see the missing migration", intervalMs: 100 },
      );
      assert.equal(behind.json["failed"], "migrations");
      assert.match(String((behind.json["checks"] as Record<string, string>)["migrations"]), /jobs 1/);
    });
  });
}
