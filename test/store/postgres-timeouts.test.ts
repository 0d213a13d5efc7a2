import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Jobs } from "../../src/jobs/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { startJobs, uniqueQueue, waitForState } from "../conformance/jobs/helpers.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { createTestDatabase, requirePostgres, type TestDatabase } from "../support/postgres.ts";
import { type FreezableProxy, startProxy } from "../support/tcp-proxy.ts";
import { waitFor } from "../support/wait.ts";

/** Timeouts against a PostgreSQL whose network path freezes, through a TCP proxy the test starts. */
const available = await requirePostgres();
const silent = createLogger({ level: "silent", pretty: false });

describe(
  "PostgreSQL behind a frozen network path",
  { skip: available ? false : "PostgreSQL unreachable (TEND_SKIP_POSTGRES=1)" },
  () => {
    let db: TestDatabase;
    let proxy: FreezableProxy;
    let direct: Store;
    const stores: Store[] = [];
    before(async () => {
      db = await createTestDatabase();
      const target = new URL(db.url);
      proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5432) });
      direct = await openStore(db.url, { log: silent });
    });
    after(async () => {
      proxy?.unfreeze();
      await Promise.allSettled(stores.map((s) => s.close()));
      await direct?.close();
      await proxy?.close();
      await db?.drop();
    });

    it("an enqueue during a freeze fails within its timeout with TEND_E_STORE_TIMEOUT; the store works after", async () => {
      const store = await openStore(proxy.via(db.url), {
        log: silent,
        poolSize: 2,
        timeouts: { connect: "1s", statement: "1s" },
      });
      stores.push(store);
      const jobs = new Jobs(async () => store, { log: silent });
      await jobs.enqueue("k", { n: 1 }); // one pooled connection through the proxy
      proxy.freeze();
      try {
        let started = Date.now();
        await assert.rejects(jobs.enqueue("k", { n: 2 }), (err: Error & { code?: string }) => {
          assert.equal(err.code, "TEND_E_STORE_TIMEOUT", err.message);
          assert.match(err.message, /did not answer statement "insert"/);
          assert.match(err.message, /timeouts\.statement/);
          return true;
        });
        let took = Date.now() - started;
        assert.ok(took >= 1_900 && took < 3_500, `gave up after ${took} ms (statement 1 s + 1 s grace)`);
        // That connection was discarded, not reused: the next call must connect, which the freeze stops too.
        started = Date.now();
        await assert.rejects(jobs.enqueue("k", { n: 3 }), (err: Error & { code?: string }) => {
          assert.equal(err.code, "TEND_E_STORE_TIMEOUT", err.message);
          assert.match(err.message, /Could not get a connection .* within 1 s/);
          return true;
        });
        took = Date.now() - started;
        assert.ok(took >= 900 && took < 2_500, `gave up connecting after ${took} ms`);
      } finally {
        proxy.unfreeze();
      }
      const { inserted } = await jobs.enqueue("k", { n: 4 });
      assert.equal(inserted, true);
      // The abandoned inserts were dropped with their connections: they never reach the server late.
      const payloads = (await jobs.list({ kind: "k" })).map((j) => j.payload);
      assert.deepEqual(payloads, [{ n: 4 }, { n: 1 }]);
    });

    it("the server cancels a statement past the statement timeout, and a lock wait past the lock timeout", async () => {
      const store = await openStore(db.url, { log: silent, timeouts: { statement: "1s", lock: "300ms" } });
      stores.push(store);
      await assert.rejects(
        store.converge.access.sql("SELECT pg_sleep(3)"),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, "TEND_E_STORE_TIMEOUT");
          assert.match(err.message, /cancelled a statement: it ran longer than the statement timeout of 1 s/);
          return true;
        },
      );
      const jobs = new Jobs(async () => store, { log: silent });
      const { id } = await jobs.enqueue("locked");
      const holder = await openStore(db.url, { log: silent, migrate: false });
      stores.push(holder);
      await holder.converge.access.transaction(async (tx) => {
        await tx.sql("SELECT id FROM tend.jobs WHERE id = $1 FOR UPDATE", [id]);
        await assert.rejects(jobs.cancel(id), (err: Error & { code?: string }) => {
          assert.equal(err.code, "TEND_E_STORE_TIMEOUT");
          assert.match(err.message, /waited longer than the lock timeout of 300 ms/);
          return true;
        });
      });
      assert.equal((await jobs.cancel(id)).state, "cancelled");
    });

    it("a worker resumes within 5 s of the path coming back, and its LISTEN connection reconnects", async () => {
      const { log, lines } = captureLog();
      const store = await openStore(proxy.via(db.url), {
        log,
        timeouts: { connect: "1s", statement: "2s", worker: "1s" },
      });
      stores.push(store);
      const queue = uniqueQueue();
      const jobs = new Jobs(async () => store, { log, pollInterval: "1s", lease: "30s" });
      const done = new Set<number>();
      jobs.define("work", ({ payload }) => void done.add((payload as { n: number }).n), { queue });
      const producer = new Jobs(async () => direct, { log: silent });
      const worker = await startJobs(jobs);
      const heard: string[] = [];
      const stopProbe = await store.notifier.listen("probe", (payload) => heard.push(payload));
      try {
        const first = await producer.enqueue("work", { n: 0 }, { queue });
        await waitForState(producer, first.id, "completed");

        proxy.freeze();
        const during = await producer.enqueueMany(
          Array.from({ length: 5 }, (_, i) => ({ kind: "work", payload: { n: i + 1 }, queue })),
        );
        // The frozen LISTEN connection answers no check: it is dropped (the event to wait for).
        await waitFor(
          () =>
            lines().some((l) => String(l["msg"]).startsWith("the LISTEN connection to PostgreSQL was lost")),
          {
            timeoutMs: 10_000,
            message: "the listener to notice the frozen path",
          },
        );
        const unfrozenAt = Date.now();
        proxy.unfreeze();
        for (const { id } of during) {
          const job = await waitForState(producer, id, "completed", 5_000);
          assert.equal(job.attempt, 1, "no claim sent before the freeze reached the server late");
        }
        const resumedMs = Date.now() - unfrozenAt;
        assert.ok(
          resumedMs < 5_000,
          `jobs enqueued during the freeze completed ${resumedMs} ms after it ended`,
        );

        await waitFor(() => lines().some((l) => l["msg"] === "the LISTEN connection to PostgreSQL is back"), {
          timeoutMs: 15_000,
          message: "the LISTEN connection to reconnect",
        });
        // Notifications reach this store again, on its new LISTEN connection.
        await direct.notifier.notify("probe", "after");
        await waitFor(() => heard.includes("after"), {
          timeoutMs: 3_000,
          message: "a notification after the reconnect",
        });
      } finally {
        proxy.unfreeze();
        await stopProbe();
        await worker.stop();
      }
    });
  },
);
