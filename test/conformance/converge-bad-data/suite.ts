import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Converger, createConverger } from "../../../src/converge/index.ts";
import { recordChange } from "../../../src/converge/record-change.ts";
import { InconsistencyRecorder } from "../../../src/converge/recorder.ts";
import { createLogger } from "../../../src/log/logger.ts";
import type { ConvergeStore, Store } from "../../../src/store/index.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { type Operator, openOperator } from "../../support/operator.ts";
import { waitFor } from "../../support/wait.ts";
import { captureLog } from "../../lifecycle/log-capture.ts";

const silent = createLogger({ level: "silent" });

/** Runs a converger task until stopped; `failure` holds what its run rejected with, if it did. */
function start(converger: Converger): {
  stop(): Promise<void>;
  failure: () => { err: unknown } | null;
} {
  const controller = new AbortController();
  let failure: { err: unknown } | null = null;
  const done = converger.run(controller.signal).catch((err: unknown) => {
    failure = { err };
  });
  return {
    failure: () => failure,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

/** Collects the unhandled rejections of the process while a test runs. */
function watchRejections(): { seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on("unhandledRejection", listener);
  return { seen, stop: () => process.off("unhandledRejection", listener) };
}

const codeOf = (err: unknown) => (err as { code?: string } | null)?.code;

/**
 * Bad data met at run time (what `converge` throws or returns, what `find` returns, what a wake-up
 * names) fails that one key, the same way on both drivers, and never the converger or the app.
 */
export function describeConvergeBadData(driver: "sqlite" | "postgres"): void {
  describe(`converger bad data on ${driver}`, () => {
    let backend: Backend | null;
    let store: Store;
    let op: Operator;
    let n = 0;

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

    const skip = () => backend === null;
    const unique = (prefix: string) => `${prefix}-${++n}`;

    it(
      "a converge that throws a null-prototype object, null or undefined fails that key alone; it counts as an error",
      { timeout: 15_000 },
      async (t) => {
        if (skip()) return t.skip("PostgreSQL unavailable");
        const { log, lines } = captureLog();
        const c = createConverger(
          {
            name: unique("throws"),
            find: () => ["a", "b", "c", "d"],
            converge: (key) => {
              if (key === "a") throw Object.assign(Object.create(null) as object, { code: "E_X" });
              if (key === "b") throw null;
              if (key === "c") throw undefined;
              return { changed: { fixed: key } };
            },
          },
          { store, log },
        );
        const report = await c.sweepOnce();
        assert.deepEqual(report.errors.map((e) => e.key).sort(), ["a", "b", "c"]);
        assert.equal(report.errors.find((e) => e.key === "b")?.error, null);
        assert.deepEqual(report.changed, [{ key: "d", changes: { fixed: "d" } }]);
        assert.equal(c.metrics().errors, 3);
        const backingOff = lines().filter((l) => l["msg"] === "converge failed; the key backs off");
        assert.equal(backingOff.length, 3);
      },
    );

    it(
      "a running converger whose converge throws a value String() cannot convert keeps running; the key backs off",
      { timeout: 15_000 },
      async (t) => {
        if (skip()) return t.skip("PostgreSQL unavailable");
        const rejections = watchRejections();
        const name = unique("np");
        const c = createConverger(
          {
            name,
            every: "1h",
            find: () => ["a", "b"],
            converge: (key) => {
              if (key === "a") throw Object.assign(Object.create(null) as object, { code: "E_X" });
              return { changed: { fixed: key } };
            },
          },
          { store, log: captureLog().log },
        );
        const task = start(c);
        try {
          await waitFor(
            async () =>
              task.failure() !== null ||
              (c.metrics().errors >= 1 &&
                (await store.converge.listInconsistencies({ converger: name })).length === 1 &&
                c.backingOff().some((k) => k.key === "a")),
            { message: "a to back off and b to converge" },
          );
          assert.equal(task.failure(), null, "the converger keeps running");
          assert.deepEqual(rejections.seen, []);
        } finally {
          await task.stop();
          rejections.stop();
        }
        assert.equal(task.failure(), null);
      },
    );

    it(
      "a change with no JSON form fails its key with TEND_E_CONVERGER_INVALID_RESULT; the rest of its batch is recorded",
      { timeout: 20_000 },
      async (t) => {
        if (skip()) return t.skip("PostgreSQL unavailable");
        const name = unique("nojson");
        const bad: Record<string, unknown> = {
          k3: Symbol("x"),
          k5: () => 1,
          k7: { toJSON: () => undefined },
        };
        const c = createConverger(
          {
            name,
            concurrency: 8,
            find: () => Array.from({ length: 30 }, (_, i) => `k${i}`),
            converge: (key) => ({ changed: key in bad ? bad[key] : { fixed: key } }),
          },
          { store, log: silent },
        );
        const report = await c.sweepOnce();
        assert.deepEqual(report.errors.map((e) => [e.key, codeOf(e.error)]).sort(), [
          ["k3", "TEND_E_CONVERGER_INVALID_RESULT"],
          ["k5", "TEND_E_CONVERGER_INVALID_RESULT"],
          ["k7", "TEND_E_CONVERGER_INVALID_RESULT"],
        ]);
        assert.equal(report.changed.length, 27);
        const recorded = await store.converge.listInconsistencies({ converger: name, limit: 1000 });
        assert.equal(recorded.length, 27);
        assert.equal(c.metrics().recordsLost, 0);
      },
    );

    it(
      "a batch of records that fails is retried one record at a time: a record the database refuses fails alone",
      { timeout: 20_000 },
      async (t) => {
        if (skip()) return t.skip("PostgreSQL unavailable");
        const converger = unique("refused");
        const real = store.converge;
        // A store that refuses every write holding the key "bad" (as a database refuses a value).
        const refusing = new Proxy(real, {
          get(target, prop) {
            if (prop === "recordInconsistencies") {
              return async (
                name: string,
                records: ReadonlyArray<{ key: string; changes: unknown }>,
                fence: null,
              ) => {
                if (records.some((r) => r.key === "bad")) throw new Error("refused");
                return target.recordInconsistencies(name, records, fence);
              };
            }
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }) as ConvergeStore;
        const recorder = new InconsistencyRecorder(refusing, converger);
        const since = new Date(Date.now() - 1000);
        const keys = ["g1", "g2", "bad", "g3", "g4", "g5"];
        const outcomes = await Promise.all(
          keys.map((key) =>
            recordChange({
              converger,
              key,
              changes: { key },
              fence: null,
              store: refusing,
              recorder,
              log: silent,
              since,
              signal: new AbortController().signal,
              retryLimitMs: 1_500,
            }),
          ),
        );
        assert.deepEqual(
          outcomes.map((o) => o.kind),
          ["recorded", "recorded", "lost", "recorded", "recorded", "recorded"],
        );
        const stored = await real.listInconsistencies({ converger, limit: 100 });
        assert.deepEqual(stored.map((r) => r.key).sort(), ["g1", "g2", "g3", "g4", "g5"]);
      },
    );

    it(
      "items of find that are not valid keys (over 512 characters, U+0000, a lone surrogate, not a key) fail alone; the others converge",
      { timeout: 20_000 },
      async (t) => {
        if (skip()) return t.skip("PostgreSQL unavailable");
        const name = unique("badkeys");
        const long = "x".repeat(600);
        const seen: string[] = [];
        const c = createConverger(
          {
            name,
            find: () => ["ok-1", long, "nul\u0000key", "lone\ud800", { id: 1, name: "two columns" }, "ok-2"],
            converge: (key) => {
              seen.push(key);
              return { changed: { fixed: key } };
            },
          },
          { store, log: silent },
        );
        const report = await c.sweepOnce();
        assert.deepEqual(report.keys, ["ok-1", "ok-2"]);
        assert.deepEqual(seen.sort(), ["ok-1", "ok-2"]);
        assert.equal(report.changed.length, 2);
        assert.equal(report.errors.length, 4);
        assert.ok(report.errors.every((e) => codeOf(e.error) === "TEND_E_CONVERGER_INVALID_KEYS"));
        assert.deepEqual(report.errors.map((e) => e.key).slice(0, 3), [long, "nul\u0000key", "lone\ud800"]);
        assert.equal(c.metrics().invalidKeys, 4);
        const recorded = await store.converge.listInconsistencies({ converger: name });
        assert.deepEqual(recorded.map((r) => r.key).sort(), ["ok-1", "ok-2"]);
      },
    );

    it(
      "a key holding U+0000 is skipped as invalid on both drivers, never run nor recorded",
      { timeout: 15_000 },
      async (t) => {
        if (skip()) return t.skip("PostgreSQL unavailable");
        const name = unique("nul");
        const c = createConverger(
          {
            name,
            find: () => ["ok", "nul\u0000key"],
            converge: (key) => ({ changed: { fixed: key } }),
          },
          { store, log: silent },
        );
        const report = await c.sweepOnce();
        assert.deepEqual(report.keys, ["ok"]);
        assert.deepEqual(
          report.errors.map((e) => [e.key, codeOf(e.error)]),
          [["nul\u0000key", "TEND_E_CONVERGER_INVALID_KEYS"]],
        );
        const recorded = await store.converge.listInconsistencies({ converger: name });
        assert.deepEqual(
          recorded.map((r) => r.key),
          ["ok"],
        );
      },
    );

    it(
      "a running converger whose first sweep finds an over-long key keeps running and converges the others",
      { timeout: 15_000 },
      async (t) => {
        if (skip()) return t.skip("PostgreSQL unavailable");
        const name = unique("longfirst");
        const c = createConverger(
          {
            name,
            every: "1h",
            find: () => ["ok-1", "ok-2", "x".repeat(600)],
            converge: (key) => ({ changed: { fixed: key } }),
          },
          { store, log: silent },
        );
        const task = start(c);
        try {
          await waitFor(
            async () =>
              task.failure() !== null ||
              (await store.converge.listInconsistencies({ converger: name })).length === 2,
            { message: "the valid keys to converge" },
          );
          assert.equal(task.failure(), null, "the converger keeps running");
          assert.equal(c.metrics().invalidKeys, 1);
        } finally {
          await task.stop();
        }
        assert.equal(task.failure(), null);
      },
    );

    it(
      "a find result that is not an iterable still fails the first sweep (a start-up error)",
      { timeout: 15_000 },
      async (t) => {
        if (skip()) return t.skip("PostgreSQL unavailable");
        const c = createConverger(
          { name: unique("notiterable"), find: () => 42 as never, converge: () => undefined },
          { store, log: silent },
        );
        await assert.rejects(c.run(new AbortController().signal), (err: unknown) => {
          assert.equal(codeOf(err), "TEND_E_CONVERGER_INVALID_KEYS");
          return true;
        });
      },
    );

    it(
      "a row whose wakeOn key is 9,000 characters is written, and wakes a sweep, not a run of that key; a normal key still wakes",
      { timeout: 20_000 },
      async (t) => {
        if (skip()) return t.skip("PostgreSQL unavailable");
        const table = unique("longkey").replace("-", "_");
        await op.exec(`CREATE TABLE ${table} (id text PRIMARY KEY, desired text, actual text)`);
        const name = unique("wakelong");
        const ran: string[] = [];
        const c = createConverger(
          {
            name,
            every: "1h",
            pollInterval: "20ms",
            wakeOn: [{ table, key: "id" }],
            find: async (ctx) =>
              (await ctx.sql(`SELECT id FROM ${table} WHERE actual IS DISTINCT FROM desired`)).map(
                (r) => r["id"] as string,
              ),
            converge: async (key, ctx) => {
              ran.push(key);
              await ctx.sql(`UPDATE ${table} SET actual = desired WHERE id = $1`, [key]);
              return { changed: { key } };
            },
          },
          { store, log: silent },
        );
        const task = start(c);
        try {
          await waitFor(() => task.failure() !== null || c.metrics().sweeps >= 1, {
            message: "the first sweep",
          });
          await waitFor(() => task.failure() !== null || c.metrics().lastSweepAt !== null, {
            message: "the first sweep to end",
          });
          const sweeps = c.metrics().sweeps;
          const long = "k".repeat(9_000);
          await op.exec(`INSERT INTO ${table} (id, desired) VALUES ($1, 'v')`, [long]);
          await waitFor(() => task.failure() !== null || c.metrics().invalidKeys >= 1, {
            message: "the woken sweep to skip the over-long key",
          });
          assert.ok(c.metrics().sweeps > sweeps, "the wake-up ran a sweep");
          assert.ok(!ran.includes(long), "the over-long key never ran");
          const swept = c.metrics().sweeps;
          await op.exec(`INSERT INTO ${table} (id, desired) VALUES ('short', 'v')`);
          await waitFor(() => ran.includes("short"), { message: "the normal key to be woken" });
          assert.equal(c.metrics().sweeps, swept, "converged by its wake-up, not by a sweep");
          assert.equal(task.failure(), null);
        } finally {
          await task.stop();
          await op.exec(`DROP TABLE ${table}`);
        }
      },
    );
  });
}
