import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import {
  type Converger,
  createConverger,
  installWakeTrigger,
  TerminalError,
} from "../../../src/converge/index.ts";
import { Limiter } from "../../../src/lifecycle/limiter.ts";
import { createLogger } from "../../../src/log/logger.ts";
import { openStore, type Store } from "../../../src/store/index.ts";
import { rawConnection } from "../../../src/store/raw.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { itemConverger } from "../../support/items.ts";
import { type Operator, openOperator } from "../../support/operator.ts";
import { postgresUrl } from "../../support/postgres.ts";
import { waitFor } from "../../support/wait.ts";
import { captureLog } from "../../lifecycle/log-capture.ts";
import { registerConvergerMetrics } from "../../../src/observe/converge-metrics.ts";
import { promClient } from "../../../src/observe/prom.ts";

const log = createLogger({ level: "silent" });

/** Runs a converger task until stopped. */
function start(converger: Converger): { stop(): Promise<void>; done: Promise<void> } {
  const controller = new AbortController();
  const done = converger.run(controller.signal);
  return {
    done,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

/** The converger runner's behaviour on one driver, against a real database. */
export function describeConvergerRunner(driver: "sqlite" | "postgres"): void {
  describe(`converger runner on ${driver}`, () => {
    let backend: Backend | null;
    let store: Store;
    let op: Operator;
    let table = 0;

    before(async () => {
      backend = await createBackend(driver);
      if (backend === null) return;
      store = await backend.open();
      op = await openOperator(backend);
    });
    after(async () => {
      await op?.close();
      await backend?.cleanup();
    });

    /** A fresh `item` table (dropped and re-created) with n rows out of line. */
    async function items(n: number): Promise<void> {
      table++;
      await op.exec("DROP TABLE IF EXISTS item");
      await op.exec("CREATE TABLE item (id integer PRIMARY KEY, desired text, actual text)");
      for (let i = 1; i <= n; i++)
        await op.exec("INSERT INTO item (id, desired, actual) VALUES ($1, $2, NULL)", [i, `v${i}`]);
    }

    const skip = () => backend === null;

    it("a sweep converges every key found, records one inconsistency per change, and nothing the second time", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      await items(3);
      const c = createConverger(itemConverger(`sweep-${table}`), { store, log });
      const first = await c.sweepOnce();
      assert.deepEqual(first.keys, ["1", "2", "3"]);
      assert.equal(first.changed.length, 3);
      assert.deepEqual(first.changed.find((x) => x.key === "2")?.changes, [{ id: 2, actual: "v2" }]);
      const second = await c.sweepOnce();
      assert.deepEqual(second, { keys: [], changed: [], errors: [] });
      const cs = store.converge;
      const recorded = await cs.listInconsistencies({ converger: `sweep-${table}` });
      assert.equal(recorded.length, 3);
      assert.deepEqual(recorded.map((r) => r.key).sort(), ["1", "2", "3"]);
      assert.equal(c.metrics().changes, 3);
    });

    it(
      "a one-off sweep rejects with find's error rather than waiting for the next sweep",
      { timeout: 30_000 },
      async (t) => {
        if (skip()) return t.skip("PostgreSQL unavailable");
        const c = createConverger(
          {
            name: `find-fails-${table}`,
            find: () => {
              throw new Error("db down");
            },
            converge: () => ({ changed: null }),
          },
          { store, log },
        );
        await assert.rejects(c.sweepOnce(), /db down/);
      },
    );

    it(
      "a one-off sweep reports a parked key as an error instead of waiting for it to run",
      { timeout: 30_000 },
      async (t) => {
        if (skip()) return t.skip("PostgreSQL unavailable");
        let terminal = true;
        const c = createConverger(
          {
            name: `parked-${table}`,
            find: () => ["k1", "k2"],
            converge: (key) => {
              if (key === "k1" && terminal) throw new TerminalError("bad row");
              return { changed: null };
            },
          },
          { store, log },
        );
        const first = await c.sweepOnce();
        assert.deepEqual(
          first.errors.map((e) => e.key),
          ["k1"],
        );
        terminal = false;
        // k1 is parked (its version unchanged): it does not run, and the sweep says so.
        const second = await c.sweepOnce();
        assert.deepEqual(
          second.errors.map((e) => [e.key, (e.error as { code?: string }).code]),
          [["k1", "TEND_E_CONVERGER_KEY_PARKED"]],
        );
      },
    );

    it("a converge call that returns a change after its timeout counts as a timeout failure, and its change is recorded", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      const name = `late-${table}-${driver}`;
      const c = createConverger(
        {
          name,
          timeout: 100,
          find: () => ["k1", "k2"],
          converge: async (key) => {
            await new Promise((resolve) => setTimeout(resolve, 300)); // ignores ctx.signal
            return { changed: key === "k1" ? { done: true } : null };
          },
        },
        { store, log },
      );
      const sweep = await c.sweepOnce();
      assert.deepEqual(sweep.errors.map((e) => [e.key, (e.error as { code?: string }).code]).sort(), [
        ["k1", "TEND_E_CONVERGER_TIMEOUT"],
        ["k2", "TEND_E_CONVERGER_TIMEOUT"],
      ]);
      // The change was made: recorded once, although the call is a timeout (and the key backs off).
      assert.deepEqual(sweep.changed, [{ key: "k1", changes: { done: true } }]);
      const recorded = await store.converge.listInconsistencies({ converger: name });
      assert.deepEqual(
        recorded.map((r) => [r.key, r.changes]),
        [["k1", { done: true }]],
      );
      const m = c.metrics();
      assert.equal(m.timeouts, 2);
      assert.equal(m.errors, 2);
      assert.equal(m.changes, 1, "the late change counts as an inconsistency recorded");
      assert.equal(m.lateChanges, 1);
    });

    it("a find past its timeout fails with TEND_E_CONVERGER_TIMEOUT and counts as a timeout, whether it honours ctx.signal or returns late", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      const lateFind = createConverger(
        {
          name: `late-find-${table}-${driver}`,
          timeout: 100,
          find: async () => {
            await new Promise((resolve) => setTimeout(resolve, 300)); // ignores ctx.signal
            return ["k1"];
          },
          converge: () => ({ changed: null }),
        },
        { store, log },
      );
      await assert.rejects(
        lateFind.sweepOnce(),
        (err: unknown) => (err as { code?: string }).code === "TEND_E_CONVERGER_TIMEOUT",
      );
      assert.equal(lateFind.metrics().timeouts, 1);
      const honouring = createConverger(
        {
          name: `abort-find-${table}-${driver}`,
          timeout: 100,
          // Honours ctx.signal: rejects with its reason, a DOMException TimeoutError.
          find: (ctx) =>
            new Promise<string[]>((_, reject) =>
              ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error), { once: true }),
            ),
          converge: () => ({ changed: null }),
        },
        { store, log },
      );
      await assert.rejects(honouring.sweepOnce(), (err: unknown) => {
        assert.equal((err as { code?: string }).code, "TEND_E_CONVERGER_TIMEOUT");
        assert.equal(((err as Error).cause as Error | undefined)?.name, "TimeoutError");
        return true;
      });
      assert.equal(honouring.metrics().timeouts, 1);
      // And in a running converger, the error hook hears the same code for both.
      const heard: string[] = [];
      const running = createConverger(
        {
          name: `abort-find-run-${table}-${driver}`,
          every: "1h",
          timeout: 100,
          find: (ctx) =>
            new Promise<string[]>((_, reject) =>
              ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error), { once: true }),
            ),
          converge: () => ({ changed: null }),
        },
        { store, log, onError: (err) => heard.push(String((err as { code?: string }).code ?? err)) },
      );
      const task = start(running);
      try {
        await waitFor(() => heard.length >= 1, { message: "the find's failure to be reported" });
        assert.deepEqual(heard, ["TEND_E_CONVERGER_TIMEOUT"]);
        assert.equal(running.metrics().timeouts, 1);
        assert.equal(running.metrics().findErrors, 1);
      } finally {
        await task.stop();
      }
    });

    it("an inconsistency whose write fails is retried and recorded once, and counted only once stored", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      const name = `record-fails-${table}-${driver}`;
      const capture = captureLog();
      // A store whose writes give up quickly behind a lock (PostgreSQL); SQLite's give up after its busy timeout.
      const writer = driver === "postgres" ? await backend!.open({ timeouts: { lock: "200ms" } }) : store;
      const published: string[] = [];
      let fixed = false;
      const c = createConverger(
        {
          name,
          find: () => ["k1"],
          converge: () => {
            if (fixed) return { changed: null };
            fixed = true; // the change is made
            return { changed: { fixed: "k1" } };
          },
        },
        { store: writer, log: capture.log, observer: { inconsistency: (_n, key) => published.push(key) } },
      );
      // Another session blocks writes to the inconsistencies table (reads go on).
      if (driver === "postgres") {
        await op.exec("BEGIN");
        await op.exec("LOCK TABLE tend.converge_inconsistencies IN EXCLUSIVE MODE");
      } else {
        await op.exec("BEGIN IMMEDIATE");
      }
      let unblocked = false;
      const unblock = async () => {
        if (unblocked) return;
        unblocked = true;
        await op.exec(driver === "postgres" ? "ROLLBACK" : "COMMIT");
      };
      t.after(unblock);
      const sweep = c.sweepOnce();
      await waitFor(
        () => capture.lines().some((l) => /could not record an inconsistency/.test(String(l["msg"]))),
        { timeoutMs: 30_000, message: "the inconsistency's write to fail" },
      );
      assert.equal(c.metrics().changes, 0, "not counted while it is not stored");
      assert.deepEqual(published, [], "not published while it is not stored");
      await unblock();
      const report = await sweep;
      assert.deepEqual(report.errors, []);
      assert.deepEqual(report.changed, [{ key: "k1", changes: { fixed: "k1" } }]);
      const recorded = await store.converge.listInconsistencies({ converger: name });
      assert.deepEqual(
        recorded.map((r) => [r.key, r.changes]),
        [["k1", { fixed: "k1" }]],
        "recorded exactly once",
      );
      assert.equal(c.metrics().changes, 1);
      assert.equal(c.metrics().recordsLost, 0);
      assert.deepEqual(published, ["k1"]);
      // The next sweep finds nothing left to change: without the retry the record would never exist.
      assert.deepEqual((await c.sweepOnce()).changed, []);
    });

    it("a converger whose find has never succeeded reports a last-sweep age that grows (for TendConvergerSweepLate)", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      const c = createConverger(
        {
          name: `never-swept-${table}-${driver}`,
          every: "50ms",
          find: () => {
            throw new Error('relation "acount" does not exist');
          },
          converge: () => undefined,
        },
        { store, log },
      );
      const { Registry } = promClient();
      const registry = new Registry();
      registerConvergerMetrics(registry, () => [c]);
      const age = async (): Promise<number | undefined> => {
        const metric = await registry.getSingleMetric("tend_converger_last_sweep_age_seconds")?.get();
        return metric?.values.find((v) => v.labels["converger"] === c.definition.name)?.value;
      };
      const task = start(c);
      try {
        await waitFor(() => c.isLeader() && c.metrics().findErrors >= 2, { message: "failing sweeps" });
        assert.equal(c.metrics().lastSweepAt, null);
        const first = await waitFor(
          async () => {
            const a = await age();
            return a === undefined ? undefined : { a };
          },
          { message: "the last-sweep age to be reported" },
        );
        await waitFor(async () => ((await age()) ?? 0) > first.a, { message: "the age to grow" });
      } finally {
        await task.stop();
      }
    });

    it("a key woken while it runs, whose run then fails terminally and whose re-run succeeds, is not left parked", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      const name = `rerun-${table}-${driver}`;
      const capture = captureLog();
      let release!: () => void;
      const blocked = new Promise<void>((resolve) => (release = resolve));
      let runs = 0;
      const c = createConverger(
        {
          name,
          every: "1h",
          find: () => ["k1"],
          converge: async () => {
            runs++;
            if (runs === 1) {
              await blocked;
              throw new TerminalError("bad the first time");
            }
            return { changed: null };
          },
        },
        { store, log: capture.log },
      );
      const task = start(c);
      t.after(() => task.stop());
      await waitFor(() => runs === 1, { message: "the first run started" });
      await store.converge.requestSweep(name, "k1"); // "run now" while it runs: a pending wake
      await waitFor(
        () => capture.lines().some((l) => l["msg"] === "a run of the key was requested; running it now"),
        {
          message: "the request to reach the runner",
        },
      );
      release();
      await waitFor(() => runs === 2, { message: "the re-run" });
      await waitFor(async () => (await store.converge.listTerminal(name)).length === 0, {
        message: "no parked record left behind",
      });
      assert.equal(c.metrics().parked, 0);
    });

    it("records a change or a terminal message holding U+0000 or a lone surrogate, escaped, with the rest of its batch", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      const name = `nul-${table}`;
      const c = createConverger(
        {
          name,
          find: () => ["a", "b", "c", "d"],
          converge: (key) => {
            if (key === "d") throw new TerminalError("bad \u0000 data \ud800");
            return { changed: key === "b" ? { note: "nul \u0000 and \udc00" } : { ok: key } };
          },
        },
        { store, log },
      );
      const report = await c.sweepOnce();
      assert.equal(report.changed.length, 3);
      const recorded = await store.converge.listInconsistencies({ converger: name });
      assert.deepEqual(Object.fromEntries(recorded.map((r) => [r.key, r.changes])), {
        a: { ok: "a" },
        b: { note: "nul \\u0000 and \\udc00" },
        c: { ok: "c" },
      });
      const [parked] = await store.converge.listTerminal(name);
      assert.equal(parked?.message, "bad \\u0000 data \\ud800");
    });

    it("a keyed wakeOn converges an operator's UPDATE without waiting for the sweep", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      await items(2);
      const name = `wake-${table}`;
      const c = createConverger(
        itemConverger(name, { every: "1h", wakeOn: [{ table: "item", key: "id" }], pollInterval: "20ms" }),
        {
          store,
          log,
        },
      );
      const task = start(c);
      try {
        await waitFor(
          async () =>
            Number((await op.exec("SELECT count(*) AS n FROM item WHERE actual IS NULL"))[0]?.["n"]) === 0,
          {
            message: "the first sweep to converge both items",
          },
        );
        const sweeps = c.metrics().sweeps;
        await op.exec("UPDATE item SET desired = 'changed' WHERE id = 2");
        await waitFor(
          async () => (await op.exec("SELECT actual FROM item WHERE id = 2"))[0]?.["actual"] === "changed",
          {
            message: "the woken key to converge",
          },
        );
        assert.equal(c.metrics().sweeps, sweeps, "converged by the wake-up, not by a sweep");
        assert.ok(c.metrics().wakes >= 1);
        const cs = store.converge;
        await waitFor(async () => (await cs.listInconsistencies({ converger: name })).length === 3);
      } finally {
        await task.stop();
      }
    });

    it("an unkeyed wakeOn runs a sweep on any change of the table", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      await items(1);
      const c = createConverger(
        itemConverger(`sweepwake-${table}`, { every: "1h", wakeOn: ["item"], pollInterval: "20ms" }),
        {
          store,
          log,
        },
      );
      const task = start(c);
      try {
        await waitFor(
          async () => (await op.exec("SELECT actual FROM item WHERE id = 1"))[0]?.["actual"] === "v1",
        );
        const sweeps = c.metrics().sweeps;
        await op.exec("INSERT INTO item (id, desired) VALUES (9, 'nine')");
        await waitFor(
          async () => (await op.exec("SELECT actual FROM item WHERE id = 9"))[0]?.["actual"] === "nine",
          {
            message: "the sweep woken by the insert",
          },
        );
        assert.ok(c.metrics().sweeps > sweeps);
      } finally {
        await task.stop();
      }
    });

    it("a key that throws backs off alone; the others converge; a TerminalError is recorded and not retried until the key changes", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      await items(4);
      const calls = new Map<string, number>();
      const def = itemConverger(`fail-${table}`, {
        every: "30ms",
        wakeOn: [{ table: "item", key: "id" }],
        pollInterval: "20ms",
        backoff: { base: "40ms", max: "200ms" },
      });
      const inner = def.converge;
      def.converge = async (key, ctx) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        const [row] = await ctx.sql("SELECT desired FROM item WHERE id = $1", [key]);
        if (key === "1") throw new Error("flaky backend");
        if (row?.["desired"] === "poison") throw new TerminalError(`item ${key} is poisoned`);
        return inner(key, ctx);
      };
      await op.exec("UPDATE item SET desired = 'poison' WHERE id = 2");
      const c = createConverger(def, { store, log });
      const task = start(c);
      try {
        await waitFor(
          async () =>
            Number(
              (await op.exec("SELECT count(*) AS n FROM item WHERE id IN (3, 4) AND actual = desired"))[0]?.[
                "n"
              ],
            ) === 2,
        );
        await waitFor(() => (calls.get("1") ?? 0) >= 3, { message: "key 1 to be retried" });
        const cs = store.converge;
        await waitFor(async () => (await cs.listTerminal(def.name)).length === 1, {
          message: "the terminal key recorded",
        });
        const terminalCalls = calls.get("2");
        const sweeps = c.metrics().sweeps;
        await waitFor(() => c.metrics().sweeps >= sweeps + 3, { message: "more sweeps" });
        assert.equal(calls.get("2"), terminalCalls, "a terminal key is not retried by sweeps");
        assert.ok(
          (calls.get("1") ?? 0) < c.metrics().sweeps,
          "the failing key backs off instead of running every sweep",
        );
        assert.equal(c.metrics().terminal, 1);
        assert.ok(c.metrics().errors >= 4);
        await op.exec("UPDATE item SET desired = 'cured' WHERE id = 2");
        await waitFor(
          async () => (await op.exec("SELECT actual FROM item WHERE id = 2"))[0]?.["actual"] === "cured",
          {
            message: "the changed terminal key to converge",
          },
        );
        await waitFor(async () => (await cs.listTerminal(def.name)).length === 0, {
          message: "the terminal record cleared",
        });
      } finally {
        await task.stop();
      }
    });

    it("requeueAfter looks at a key again; each call gets a timeout signal", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      await items(2);
      const seen: string[] = [];
      let aborted = 0;
      const c = createConverger(
        {
          name: `requeue-${table}`,
          every: "1h",
          timeout: "100ms",
          backoff: { base: "1h" },
          find: () => [1, 2],
          converge: async (key, ctx) => {
            seen.push(key);
            if (key === "2") {
              await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
              aborted++;
              throw new Error("gave up");
            }
            return seen.filter((k) => k === "1").length < 3 ? { requeueAfter: 20 } : undefined;
          },
        },
        { store, log },
      );
      const task = start(c);
      try {
        await waitFor(() => seen.filter((k) => k === "1").length === 3 && aborted === 1, {
          message: "requeues and a timeout",
        });
        assert.equal(c.metrics().timeouts, 1);
      } finally {
        await task.stop();
      }
    });

    it("bounds concurrency per converger and across convergers with the shared limiter", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      let active = 0;
      let peak = 0;
      const perConverger = new Map<string, number>();
      const peaks = new Map<string, number>();
      const limiter = new Limiter(3);
      const make = (name: string) =>
        createConverger(
          {
            name,
            every: "1h",
            concurrency: 2,
            find: () => Array.from({ length: 12 }, (_, i) => i),
            converge: async (_key, _ctx) => {
              active++;
              perConverger.set(name, (perConverger.get(name) ?? 0) + 1);
              peak = Math.max(peak, active);
              peaks.set(name, Math.max(peaks.get(name) ?? 0, perConverger.get(name) ?? 0));
              await new Promise((r) => setTimeout(r, 5));
              active--;
              perConverger.set(name, (perConverger.get(name) ?? 0) - 1);
            },
          },
          { store, log, limiter },
        );
      const all = ["a", "b", "c"].map((n) => make(`bound-${n}-${table}`));
      const reports = await Promise.all(all.map((c) => c.sweepOnce()));
      assert.deepEqual(
        reports.map((r) => r.keys.length),
        [12, 12, 12],
      );
      assert.ok(peak <= 3, `at most 3 converge calls at once across convergers (saw ${peak})`);
      assert.ok(peak >= 2, "they do run in parallel");
      for (const p of peaks.values()) assert.ok(p <= 2, "at most 2 per converger");
    });

    it("after the LISTEN connection is cut, the converger sweeps at once (notifications may have been lost)", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      if (driver !== "postgres") return t.skip("PostgreSQL only: SQLite has no listener connection to lose");
      await items(1);
      const c = createConverger(
        itemConverger(`reconnect-${table}`, { every: "1h", wakeOn: [{ table: "item", key: "id" }] }),
        {
          store,
          log,
        },
      );
      const task = start(c);
      try {
        await waitFor(() => c.metrics().sweeps === 1 && c.isLeader(), { message: "the first sweep" });
        const cut = await op.exec(
          "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        );
        assert.ok(cut.length >= 1, "found the LISTEN connection");
        await waitFor(() => c.metrics().sweeps >= 2, {
          timeoutMs: 10_000,
          message: "a sweep after the reconnect",
        });
        // And wake-ups work again on the new connection.
        await op.exec("UPDATE item SET desired = 'after-reconnect' WHERE id = 1");
        await waitFor(
          async () =>
            (await op.exec("SELECT actual FROM item WHERE id = 1"))[0]?.["actual"] === "after-reconnect",
          {
            message: "a wake-up after the reconnect",
          },
        );
      } finally {
        await task.stop();
      }
    });

    it("installWakeTrigger is idempotent and refuses an unknown table", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      await items(1);
      const first = await installWakeTrigger(store, "item", "id");
      assert.equal(await installWakeTrigger(store, "item", "id"), first);
      assert.equal(first, driver === "postgres" ? "public.item" : "item");
      await assert.rejects(installWakeTrigger(store, "nope", "id"), (err: unknown) => {
        assert.equal((err as { code?: string }).code, "TEND_E_CONVERGER_UNKNOWN_TABLE");
        return true;
      });
      await assert.rejects(installWakeTrigger(store, "item; drop table item", "id"), (err: unknown) => {
        assert.equal((err as { code?: string }).code, "TEND_E_CONVERGER_INVALID_WAKE");
        return true;
      });
    });

    it("eight convergers share a pool of two connections through the shared limiter", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      await items(24);
      const small = await openStore(backend!.url, { poolSize: 2 });
      const limiter = new Limiter(2);
      let active = 0;
      let peak = 0;
      let poolPeak = 0;
      const tasks = Array.from({ length: 8 }, (_, n) => {
        const def = itemConverger(`shared-${n}-${table}`, { every: "1h", concurrency: 4 });
        const inner = def.converge;
        def.converge = async (key, ctx) => {
          if (Number(key) % 8 !== n) return undefined;
          active++;
          peak = Math.max(peak, active);
          try {
            return await inner(key, ctx);
          } finally {
            const raw = rawConnection(small);
            if (raw.driver === "postgres") poolPeak = Math.max(poolPeak, raw.pool.totalCount);
            active--;
          }
        };
        return start(createConverger(def, { store: small, log, limiter }));
      });
      try {
        await waitFor(
          async () =>
            Number((await op.exec("SELECT count(*) AS n FROM item WHERE actual IS NULL"))[0]?.["n"]) === 0,
          {
            timeoutMs: 20_000,
            message: "all 24 items converged by 8 convergers",
          },
        );
        assert.ok(peak <= 2, `at most 2 converge calls at once (saw ${peak})`);
        if (rawConnection(small).driver === "postgres") {
          assert.ok(poolPeak <= 2, `the pool never grew past 2 connections (saw ${poolPeak})`);
        }
      } finally {
        await Promise.all(tasks.map((task) => task.stop()));
        await small.close();
      }
    });

    it("a leader that cannot renew its lease (database unreachable) stops within the TTL, and leads again after", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      if (driver !== "postgres")
        return t.skip("PostgreSQL only: an SQLite file cannot become unreachable this way");
      await items(1);
      const name = `unreachable-${table}`;
      const c = createConverger(itemConverger(name, { every: "50ms", leaseTtl: "1s" }), { store, log });
      const task = start(c);
      const database = new URL(backend!.url).pathname.slice(1);
      const admin = new pg.Client({ connectionString: postgresUrl() });
      await admin.connect();
      try {
        await waitFor(() => c.isLeader(), { message: "the converger to lead" });
        const cutAt = Date.now();
        await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
        await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
          [database],
        );
        await waitFor(() => !c.isLeader() && c.metrics().leasesLost === 1, {
          timeoutMs: 5000,
          message: "the leader to give up its lease",
        });
        t.diagnostic(`stopped ${Date.now() - cutAt} ms after the database became unreachable (TTL 1000 ms)`);
        // The converger gives up at its own deadline (800 ms after its last renewal began, see
        // leaseDeadline); the bound adds what this test's own statements and a loaded machine's
        // timer delay add on top, so that it fails only for a leader that kept going.
        assert.ok(Date.now() - cutAt <= 1000 + 1500, "stopped within the TTL (plus the test's own latency)");
        await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
        await waitFor(() => c.isLeader() && c.metrics().leaderTerms === 2, {
          timeoutMs: 10_000,
          message: "the converger to lead again once the database is back",
        });
      } finally {
        await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`).catch(() => {});
        await admin.end();
        await task.stop();
        // The operator connection was cut too: reopen it for the tests that follow.
        await op.close().catch(() => {});
        op = await openOperator(backend!);
      }
    });

    it("start-up errors: an unknown wakeOn table or key column, and a find that returns no iterable", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      await items(1);
      const unknown = createConverger(itemConverger(`unknown-${table}`, { wakeOn: ["no_such_table"] }), {
        store,
        log,
      });
      await assert.rejects(unknown.run(new AbortController().signal), (err: unknown) => {
        assert.equal((err as { code?: string }).code, "TEND_E_CONVERGER_UNKNOWN_TABLE");
        assert.match((err as Error).message, /no_such_table/);
        return true;
      });
      const badColumn = createConverger(
        itemConverger(`badcol-${table}`, { wakeOn: [{ table: "item", key: "nope" }] }),
        {
          store,
          log,
        },
      );
      await assert.rejects(badColumn.run(new AbortController().signal), (err: unknown) => {
        assert.equal((err as { code?: string }).code, "TEND_E_CONVERGER_UNKNOWN_COLUMN");
        assert.match((err as Error).message, /"nope"/);
        return true;
      });
      const nonKeys = createConverger(
        // An item that is not a key fails alone (see converge-bad-data); a result that is not an
        // iterable at all fails the first sweep.
        {
          name: `nonkeys-${table}`,
          find: () => ({ id: 1, name: "one" }) as never,
          converge: () => undefined,
        },
        { store, log },
      );
      await assert.rejects(nonKeys.run(new AbortController().signal), (err: unknown) => {
        assert.equal((err as { code?: string }).code, "TEND_E_CONVERGER_INVALID_KEYS");
        return true;
      });
    });

    it("leadership: one of two processes' convergers leads; on stop the other takes over at once; a stolen lease stops the leader", async (t) => {
      if (skip()) return t.skip("PostgreSQL unavailable");
      await items(1);
      const name = `lead-${table}`;
      const other = await backend!.open();
      const a = createConverger(itemConverger(name, { every: "20ms", leaseTtl: "10s" }), {
        store,
        log,
        holderId: "proc-a",
      });
      const b = createConverger(itemConverger(name, { every: "20ms", leaseTtl: "10s" }), {
        store: other,
        log,
        holderId: "proc-b",
      });
      const ta = start(a);
      await waitFor(() => a.isLeader(), { message: "a to lead" });
      const tb = start(b);
      try {
        await waitFor(() => b.metrics().leaderTerms === 0 && a.metrics().sweeps >= 3);
        assert.equal(b.isLeader(), false, "b stands by while a leads");
        const stoppedAt = Date.now();
        await ta.stop();
        await waitFor(() => b.isLeader(), { message: "b to take over after a released the lease" });
        assert.ok(
          Date.now() - stoppedAt < 2000,
          "taken over well within the 10 s TTL (released, not expired)",
        );
        // Steal b's lease as another machine would after an expiry: b must stop leading.
        await op.exec(
          `UPDATE ${driver === "sqlite" ? "tend_converge_leases" : "tend.converge_leases"} SET holder = 'proc-z', epoch = epoch + 1 WHERE name = $1`,
          [name],
        );
        await op.exec("UPDATE item SET desired = 'after-steal' WHERE id = 1");
        await waitFor(() => !b.isLeader() && b.metrics().leasesLost === 1, {
          timeoutMs: 10_000,
          message: "b to notice it lost the lease",
        });
        const cs = store.converge;
        const fenced = (await cs.listInconsistencies({ converger: name })).filter(
          (r) => r.holder === "proc-b" && r.epoch !== null,
        );
        for (const r of fenced) assert.ok(r.epoch! <= 2, "nothing recorded under a stolen epoch");
      } finally {
        await tb.stop();
        await ta.stop().catch(() => {});
      }
    });
  });
}
