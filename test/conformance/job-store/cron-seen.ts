import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CronEntryDefinition } from "../../../src/store/index.ts";
import type { FreshStore } from "../../support/backends.ts";

function entry(name: string): CronEntryDefinition {
  return { name, kind: "k", expression: "0 3 * * *", timezone: null, overlap: "skip" };
}

/** touchCron, lastSeenAt and pruneCron: entries removed from the code stop being seen. */
export function describeCronSeen(h: () => FreshStore): void {
  describe("cron entries seen and pruned", () => {
    it("registering and touching move lastSeenAt; pruneCron deletes only the entries unseen since", async () => {
      const { store, openAnother } = h();
      const other = await openAnother();
      await store.jobs.registerCron([entry("kept"), entry("removed")]);
      const registered = await store.jobs.listCron();
      const seen0 = registered.find((e) => e.name === "removed")!.lastSeenAt;
      assert.ok(seen0 instanceof Date);
      await store.jobs.setCronPaused("kept", true);
      await new Promise((r) => setTimeout(r, 30));
      await other.jobs.touchCron([entry("kept")]);
      const touched = (await store.jobs.listCron()).find((e) => e.name === "kept")!;
      assert.ok(touched.lastSeenAt.getTime() > seen0.getTime() + 10, "a touch moves lastSeenAt");
      assert.equal(
        touched.registeredAt.getTime(),
        registered[0]!.registeredAt.getTime(),
        "but not registeredAt",
      );
      assert.deepEqual(await other.jobs.pruneCron(new Date(seen0.getTime() + 5)), ["removed"]);
      const left = await store.jobs.listCron();
      assert.deepEqual(
        left.map((e) => [e.name, e.paused]),
        [["kept", true]],
      );
      assert.deepEqual(await store.jobs.pruneCron(new Date(seen0.getTime() + 5)), []);
      // A process still scheduling an entry pruned meanwhile registers it again at its next touch.
      await store.jobs.touchCron([entry("removed")]);
      const back = (await store.jobs.listCron()).find((e) => e.name === "removed");
      assert.equal(back?.expression, "0 3 * * *");
      assert.equal(back?.paused, false);
    });

    it("refuses a bad prune date and bad names", async () => {
      const { store } = h();
      await assert.rejects(store.jobs.pruneCron(new Date(Number.NaN)), {
        code: "TEND_E_INVALID_STORE_ARGUMENT",
      });
      await assert.rejects(store.jobs.touchCron([{ ...entry("x"), overlap: "sometimes" as "skip" }]), {
        code: "TEND_E_INVALID_STORE_ARGUMENT",
      });
    });
  });
}
