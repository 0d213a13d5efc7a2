import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WriteBatcher } from "../../src/jobs/write-batcher.ts";

/** A write that refuses any batch holding "bad", and fails everything while `down` is set. */
function store() {
  const calls: string[][] = [];
  const state = { down: false, goesDownAt: "" };
  const write = async (items: string[]): Promise<string[]> => {
    calls.push(items);
    if (items.length === 1 && items[0] === state.goesDownAt) state.down = true;
    await Promise.resolve();
    if (state.down) throw Object.assign(new Error("down"), { unavailable: true });
    if (items.includes("bad")) throw new Error(`refused ${items.length}`);
    return items;
  };
  return { calls, state, write };
}

const split = { retrySingly: (err: unknown) => (err as { unavailable?: boolean }).unavailable !== true };

describe("WriteBatcher", () => {
  it("batches writes made while one is in flight, and writes a refused batch one by one", async () => {
    const s = store();
    const splits: number[] = [];
    const batcher = new WriteBatcher(s.write, { split: { ...split, onSplit: (_err, n) => splits.push(n) } });
    const first = batcher.add("a");
    const rest = ["b", "bad", "c", "d"].map((item) =>
      batcher.add(item).then(
        (r) => ({ item, ok: r.includes(item) }),
        (err: Error) => ({ item, err: err.message }),
      ),
    );
    assert.deepEqual(await first, ["a"]);
    assert.deepEqual(await Promise.all(rest), [
      { item: "b", ok: true },
      { item: "bad", err: "refused 1" },
      { item: "c", ok: true },
      { item: "d", ok: true },
    ]);
    assert.deepEqual(splits, [4]);
    assert.deepEqual(s.calls, [["a"], ["b", "bad", "c", "d"], ["b"], ["bad"], ["c"], ["d"]]);
  });

  it("fails a whole batch at once when the store is unavailable, and stops writing singly once it is", async () => {
    const s = store();
    const batcher = new WriteBatcher(s.write, { split });
    s.state.down = true;
    const all = Array.from({ length: 20 }, (_, i) =>
      batcher.add(String(i)).catch((err: Error) => err.message),
    );
    assert.deepEqual(new Set(await Promise.all(all)), new Set(["down"]));
    assert.ok(
      s.calls.every((c) => c.length > 1 || c[0] === "0"),
      "no item was written singly",
    );

    // The store goes away while a refused batch is written one by one: the rest fail without trying.
    s.state.down = false;
    s.calls.length = 0;
    const lead = batcher.add("lead");
    const items = Array.from({ length: 30 }, (_, i) => (i === 0 ? "bad" : `i${i}`));
    const settled = items.map((item) => batcher.add(item).catch((err: Error) => err.message));
    await lead;
    s.state.goesDownAt = "i3";
    const results = await Promise.all(settled);
    assert.deepEqual(s.calls.length, 1 + 1 + 8, "the lead, the batch, then one slice of singles");
    assert.deepEqual(
      results.slice(8),
      Array.from({ length: 22 }, () => "down"),
    );
  });
});
