import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  clearParkedKeys,
  type Converger,
  createConverger,
  TerminalError,
} from "../../../src/converge/index.ts";
import { createLogger } from "../../../src/log/logger.ts";
import type { Store } from "../../../src/store/index.ts";
import { type Backend, useBackend } from "../../support/backends.ts";
import { type Operator, openOperator } from "../../support/operator.ts";
import { waitFor } from "../../support/wait.ts";

const log = createLogger({ level: "silent" });
const DAY = 86_400_000;

/** Runs a converger task until stopped. */
function start(converger: Converger): { stop(): Promise<void> } {
  const controller = new AbortController();
  const done = converger.run(controller.signal);
  return {
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

/** The converge tables of the backend's default store, as an operator names them. */
function tables(backend: Backend): { inconsistencies: string; terminal: string } {
  return backend.driver === "postgres"
    ? { inconsistencies: "tend.converge_inconsistencies", terminal: "tend.converge_terminal" }
    : { inconsistencies: "tend_converge_inconsistencies", terminal: "tend_converge_terminal" };
}

/** A time as the backend stores it (PostgreSQL timestamptz; SQLite ms). */
function at(backend: Backend, ms: number): unknown {
  return backend.driver === "postgres" ? new Date(ms) : ms;
}

/** Records inconsistencies `keys` of `converger`, `ageMs` ago. */
async function recordAged(
  ctx: { backend: Backend; store: Store; op: Operator },
  converger: string,
  keys: string[],
  ageMs: number,
): Promise<void> {
  await ctx.store.converge.recordInconsistencies(
    converger,
    keys.map((key) => ({ key, changes: { key } })),
    null,
  );
  for (const key of keys) {
    await ctx.op.exec(
      `UPDATE ${tables(ctx.backend).inconsistencies} SET at = $3 WHERE converger = $1 AND key = $2`,
      [converger, key, at(ctx.backend, Date.now() - ageMs)],
    );
  }
}

/** Inconsistency keys of a converger, sorted. */
async function inconsistencyKeys(store: Store, converger: string): Promise<string[]> {
  return (await store.converge.listInconsistencies({ converger, limit: 10_000 })).map((r) => r.key).sort();
}

/**
 * Retention of the converge part's records and the operations on parked keys, on one driver: the
 * store's bounded prunes, the leader pruning its own converger's records, and a cleared parked key
 * running again at once.
 */
export function describeConvergeRetention(driver: "sqlite" | "postgres"): void {
  describe(`converge retention and parked keys (${driver})`, () => {
    const get = useBackend(driver);
    let op: Operator;
    before(async () => {
      op = await openOperator(get().backend);
    });
    after(() => op?.close());
    const ctx = () => ({ ...get(), op });

    it("the store prunes old inconsistencies in bounded batches, of one converger or of all", async () => {
      const { store } = get();
      await recordAged(ctx(), "prune-a", ["a1", "a2", "a3"], 40 * DAY);
      await recordAged(ctx(), "prune-a", ["a-new"], 0);
      await recordAged(ctx(), "prune-b", ["b1"], 40 * DAY);
      const cutoff = new Date(Date.now() - 30 * DAY);
      assert.equal(await store.converge.pruneInconsistencies("prune-a", cutoff, 2), 2);
      assert.equal(await store.converge.pruneInconsistencies("prune-a", cutoff, 2), 1);
      assert.equal(await store.converge.pruneInconsistencies("prune-a", cutoff, 2), 0);
      assert.deepEqual(await inconsistencyKeys(store, "prune-a"), ["a-new"]);
      assert.deepEqual(await inconsistencyKeys(store, "prune-b"), ["b1"]);
      assert.equal(await store.converge.pruneInconsistencies(null, cutoff, 100), 1);
      assert.deepEqual(await inconsistencyKeys(store, "prune-b"), []);
    });

    it("parked keys: listed for one converger or all, cleared one or all, pruned by age", async () => {
      const { backend, store } = get();
      const cs = store.converge;
      for (const key of ["k1", "k2", "k3"]) await cs.recordTerminal("park-a", key, null, `bad ${key}`, null);
      await cs.recordTerminal("park-b", "k1", "v7", "bad b", null);
      await op.exec(`UPDATE ${tables(backend).terminal} SET at = $2 WHERE converger = $1 AND key = 'k3'`, [
        "park-a",
        at(backend, Date.now() - 40 * DAY),
      ]);
      const all = await cs.listTerminal();
      assert.deepEqual(
        all.filter((k) => k.converger.startsWith("park-")).map((k) => `${k.converger}/${k.key}`),
        ["park-a/k3", "park-a/k1", "park-a/k2", "park-b/k1"],
      );
      assert.deepEqual(
        (await cs.listTerminal("park-b")).map((k) => [k.key, k.version, k.message]),
        [["k1", "v7", "bad b"]],
      );
      assert.deepEqual(await cs.pruneTerminal("park-a", new Date(Date.now() - 30 * DAY), 10), ["k3"]);
      assert.equal(await cs.clearTerminal("park-a", "k1"), 1);
      assert.equal(await cs.clearTerminal("park-a", "k1"), 0);
      assert.equal(await cs.clearTerminal("park-a", null), 1);
      assert.deepEqual((await cs.listTerminal("park-a")).length, 0);
      assert.equal((await cs.listTerminal("park-b")).length, 1);
    });

    it("a converger's leader prunes its own old inconsistencies and unparks keys parked longer than the retention", async () => {
      const { backend, store } = get();
      const name = "retained";
      await recordAged(ctx(), name, ["old1", "old2"], 10 * DAY);
      await recordAged(ctx(), name, ["recent"], DAY);
      await recordAged(ctx(), "someone-else", ["theirs"], 10 * DAY);
      await store.converge.recordTerminal(name, "parked-long", null, "was bad", null);
      await store.converge.recordTerminal(name, "parked-now", null, "still bad", null);
      await op.exec(
        `UPDATE ${tables(backend).terminal} SET at = $2 WHERE converger = $1 AND key = 'parked-long'`,
        [name, at(backend, Date.now() - 10 * DAY)],
      );
      const ran = new Set<string>();
      const converger = createConverger(
        {
          name,
          every: "100ms",
          find: () => ["parked-long", "parked-now"],
          converge: (key) => void ran.add(key),
        },
        { store, log, retention: { inconsistenciesMs: 7 * DAY, parkedKeysMs: 7 * DAY } },
      );
      const task = start(converger);
      try {
        await waitFor(() => ran.has("parked-long"), { message: "the key parked too long to run again" });
        await waitFor(async () => (await inconsistencyKeys(store, name)).join() === "recent", {
          message: "the leader to prune its old inconsistencies",
        });
        assert.deepEqual(
          await inconsistencyKeys(store, "someone-else"),
          ["theirs"],
          "another converger's are kept",
        );
        assert.deepEqual(
          (await store.converge.listTerminal(name)).map((k) => k.key),
          ["parked-now"],
        );
        assert.equal(ran.has("parked-now"), false, "a key parked recently stays parked");
      } finally {
        await task.stop();
      }
    });

    it("two keys cleared one right after the other both run again at once (no notice is dropped)", async () => {
      const { backend, store } = get();
      const name = "cleared-twice";
      const calls = new Map<string, number>();
      const converger = createConverger(
        {
          name,
          every: "1h",
          find: () => ["a", "b"],
          converge: (key) => {
            const n = (calls.get(key) ?? 0) + 1;
            calls.set(key, n);
            if (n === 1) throw new TerminalError(`${key} has bad data`);
            return undefined;
          },
        },
        { store, log },
      );
      const task = start(converger);
      const operator = await backend.open();
      try {
        await waitFor(async () => (await store.converge.listTerminal(name)).length === 2, {
          message: "a and b to be parked",
        });
        assert.equal(await clearParkedKeys(operator, name, "a"), 1);
        await waitFor(() => calls.get("a") === 2, { timeoutMs: 5_000, message: "a to run again" });
        // Within a second of the first notice: the leader re-reads its parked keys once more.
        assert.equal(await clearParkedKeys(operator, name, "b"), 1);
        await waitFor(() => calls.get("b") === 2, { timeoutMs: 5_000, message: "b to run again" });
      } finally {
        await task.stop();
        await operator.close();
      }
    });

    it("a parked key an operator clears runs again at once on the running leader", async () => {
      const { backend, store } = get();
      const name = "cleared";
      let calls = 0;
      const converger = createConverger(
        {
          name,
          every: "1h",
          find: () => ["x"],
          converge: () => {
            calls++;
            if (calls === 1) throw new TerminalError("x has bad data");
            return { changed: { fixed: true } };
          },
        },
        { store, log },
      );
      const task = start(converger);
      try {
        await waitFor(async () => (await store.converge.listTerminal(name)).length === 1, {
          message: "x to be parked",
        });
        // The operator's own connection (another Store on the same database), as `tend converge keys clear`.
        const operator = await backend.open();
        assert.equal(await clearParkedKeys(operator, name, "x"), 1);
        await waitFor(() => calls === 2, {
          timeoutMs: 5_000,
          message: "x to run again without waiting for a sweep",
        });
        await waitFor(async () => (await inconsistencyKeys(store, name)).includes("x"), {
          message: "its change to be recorded",
        });
      } finally {
        await task.stop();
      }
    });
  });
}
