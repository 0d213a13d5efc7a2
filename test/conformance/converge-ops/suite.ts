import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SWEEP_REQUEST_TABLE, type Store, type Wake } from "../../../src/store/index.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";

/**
 * The converge store's operator-facing reads and requests on one driver: the leases as stored
 * (leader, epoch, live or expired), a sweep request heard by a wake-up listener of another Store
 * instance (its own connections, as another process), and inconsistencies filtered by key.
 */
export function describeConvergeOps(driver: "sqlite" | "postgres"): void {
  describe(`the converge store's operations on ${driver}`, () => {
    let backend: Backend | null;
    before(async () => {
      backend = await createBackend(driver);
    });
    after(async () => {
      await backend?.cleanup();
    });

    it("lists leases with their holder, epoch and whether they are live", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { store, cleanup } = await backend.fresh();
      t.after(cleanup);
      assert.deepEqual(await store.converge.listLeases(), []);
      const a = await store.converge.acquireLease("alpha", "p1", 60_000);
      const b = await store.converge.acquireLease("beta", "p2", 60_000);
      assert.ok(a.held && b.held);
      await store.converge.releaseLease("beta", { holder: "p2", epoch: b.epoch });
      const leases = await store.converge.listLeases();
      assert.deepEqual(
        leases.map((l) => [l.name, l.holder, l.epoch, l.live]),
        [
          ["alpha", "p1", a.epoch, true],
          ["beta", "p2", b.epoch, false],
        ],
      );
      assert.ok(leases[0]!.expiresAt.getTime() > leases[0]!.acquiredAt.getTime());
    });

    it("a lease granted after waiting for another session's hold on it runs its whole TTL from the grant", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      if (driver !== "postgres")
        return t.skip("PostgreSQL only: SQLite's grant reads the clock inside its write lock");
      const fresh = await backend.fresh();
      t.after(fresh.cleanup);
      const { store } = fresh;
      const first = await store.converge.acquireLease("alpha", "p1", 500);
      assert.ok(first.held);
      await waitFor(async () => (await store.converge.listLeases())[0]?.live === false, {
        message: "p1's lease to lapse",
      });
      // Another session (an operator's, a stalled acquirer's) holds the lease row past the TTL.
      const pg = (await import("pg")).default;
      const other = new pg.Client({ connectionString: fresh.postgres!.url });
      await other.connect();
      t.after(() => other.end());
      await other.query("BEGIN");
      await other.query(
        `SELECT 1 FROM "${fresh.postgres!.schema}".converge_leases WHERE name = 'alpha' FOR UPDATE`,
      );
      const asked = store.converge.acquireLease("alpha", "p2", 500);
      await new Promise((resolve) => setTimeout(resolve, 800)); // the hold outlasts the 500 ms TTL
      await other.query("COMMIT");
      const granted = await asked;
      assert.ok(granted.held, "p2 takes the lapsed lease");
      const [lease] = await store.converge.listLeases();
      assert.equal(lease?.holder, "p2");
      assert.equal(lease?.live, true, "the lease granted is live, not lapsed while its grant waited");
      assert.ok(lease.expiresAt.getTime() > granted.now + 499, "it runs the whole TTL from the grant");
    });

    it("a sweep request, and a request to run one key, reach a wake-up listener of another Store instance", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { store, openAnother, cleanup } = await backend.fresh();
      t.after(cleanup);
      const other: Store = await openAnother();
      const heard: Wake[] = [];
      const listener = await other.converge.listenWakes(
        (w) => heard.push(w),
        () => {},
        20,
      );
      t.after(() => listener.stop());
      await store.converge.requestSweep("alpha");
      await waitFor(() => heard.length > 0, { message: "the request heard" });
      await store.converge.requestSweep("alpha", "key 7");
      await waitFor(() => heard.length > 1, { message: "the key's request heard" });
      assert.deepEqual(heard, [
        { table: SWEEP_REQUEST_TABLE, column: "alpha", key: null },
        { table: SWEEP_REQUEST_TABLE, column: "alpha", key: "key 7" },
      ]);
    });

    it("filters inconsistencies by key as well as by converger", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { store, cleanup } = await backend.fresh();
      t.after(cleanup);
      await store.converge.recordInconsistencies(
        "alpha",
        [
          { key: "1", changes: { a: 1 } },
          { key: "2", changes: {} },
        ],
        null,
      );
      await store.converge.recordInconsistencies("beta", [{ key: "1", changes: {} }], null);
      const keys = async (filter: { converger?: string; key?: string }) =>
        (await store.converge.listInconsistencies(filter)).map((i) => `${i.converger}/${i.key}`).sort();
      assert.deepEqual(await keys({ key: "1" }), ["alpha/1", "beta/1"]);
      assert.deepEqual(await keys({ converger: "alpha", key: "1" }), ["alpha/1"]);
      assert.deepEqual(await keys({ converger: "alpha", key: "3" }), []);
    });

    it("lists inconsistencies recorded together newest id first, by number, across ids of more digits", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const { store, cleanup } = await backend.fresh();
      t.after(cleanup);
      // One call records them with one time; a fresh store numbers them from 1, here to 12.
      await store.converge.recordInconsistencies(
        "gamma",
        Array.from({ length: 12 }, (_, i) => ({ key: `k${i + 1}`, changes: {} })),
        null,
      );
      const listed = await store.converge.listInconsistencies({ converger: "gamma" });
      const ids = listed.map((i) => i.id);
      assert.equal(ids.length, 12);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => Number(b) - Number(a)),
        "newest (highest id) first, ids compared as numbers",
      );
      assert.deepEqual(
        listed.map((i) => i.key),
        Array.from({ length: 12 }, (_, i) => `k${12 - i}`),
      );
    });
  });
}
