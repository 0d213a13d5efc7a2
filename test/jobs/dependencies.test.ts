import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../src/errors/index.ts";
import { checkAfter } from "../../src/jobs/enqueue.ts";
import { type FlowNode, flattenFlow, flowResult } from "../../src/jobs/flow.ts";
import { Jobs } from "../../src/jobs/index.ts";
import { dependentStart, parentIdsOf } from "../../src/store/dependencies.ts";
import type { JobState, NewJob, Store } from "../../src/store/index.ts";
import { silent } from "../conformance/jobs/helpers.ts";

const code = (c: string) => (err: unknown) => isTendError(err, c as never);

function newJob(extra: Partial<NewJob> = {}): NewJob {
  return {
    kind: "k",
    queue: "default",
    payload: "null",
    priority: 0,
    runAt: new Date(),
    maxAttempts: 1,
    uniqueKey: null,
    batchId: null,
    batchIndex: null,
    ...extra,
  };
}

describe("dependencies: pure decisions and validation", () => {
  it("a new dependent starts ready, waiting or cancelled by its parents' states and its policy", () => {
    const of = (...states: JobState[]) => new Map(states.map((s, i) => [String(i + 1), s]));
    assert.deepEqual(dependentStart(of("completed", "completed"), "cancel"), { state: "ready" });
    assert.deepEqual(dependentStart(of("completed", "running"), "cancel"), { state: "waiting" });
    assert.deepEqual(dependentStart(of("waiting", "completed"), "run"), { state: "waiting" });
    assert.deepEqual(dependentStart(of("completed", "discarded"), "cancel"), {
      state: "cancelled",
      reason: "parent job 2 was discarded",
    });
    assert.deepEqual(dependentStart(of("cancelled", "discarded"), "run"), { state: "ready" });
    assert.deepEqual(dependentStart(of("cancelled", "available"), "run"), { state: "waiting" });
  });

  it("parent ids: after ids and earlier positions, each once; later positions, bad ids and unique keys refused", () => {
    const earlier = [{ id: "10", inserted: true, outcome: "inserted" as const }];
    assert.deepEqual(parentIdsOf(newJob({ after: ["7", "007"], afterIndexes: [0] }), 1, earlier), [
      "7",
      "10",
    ]);
    assert.throws(
      () => parentIdsOf(newJob({ afterIndexes: [1] }), 1, earlier),
      code("TEND_E_INVALID_STORE_ARGUMENT"),
    );
    assert.throws(
      () => parentIdsOf(newJob({ afterIndexes: [0] }), 0, []),
      code("TEND_E_INVALID_STORE_ARGUMENT"),
    );
    assert.throws(() => parentIdsOf(newJob({ after: ["x1"] }), 0, []), code("TEND_E_INVALID_STORE_ARGUMENT"));
    assert.throws(
      () => parentIdsOf(newJob({ after: ["1"], uniqueKey: "u" }), 0, []),
      code("TEND_E_INVALID_STORE_ARGUMENT"),
    );
  });

  it("enqueue options: after is an array of ids; onParentFailure needs after; no unique key beside it", () => {
    assert.deepEqual(checkAfter(["1", "2"], "run", null), ["1", "2"]);
    assert.deepEqual(checkAfter([], undefined, "u"), []);
    for (const [after, policy, key] of [
      ["1", undefined, null],
      [[1], undefined, null],
      [["1"], "later", null],
      [undefined, "run", null],
      [[], "cancel", null],
      [["1"], undefined, "u"],
      [Array.from({ length: 1001 }, (_, i) => String(i)), undefined, null],
    ] as const) {
      assert.throws(
        () => checkAfter(after, policy, key),
        (err: unknown) => isTendError(err, "TEND_E_INVALID_JOB_OPTIONS"),
        JSON.stringify([after, policy, key]).slice(0, 80),
      );
    }
  });

  it("a flow flattens leaves first with the root last, and its ids come back shaped as the tree", () => {
    const flow: FlowNode = {
      kind: "root",
      onChildFailure: "run",
      children: [{ kind: "a", children: [{ kind: "a1" }] }, { kind: "b" }],
    };
    const flat = flattenFlow(flow);
    assert.deepEqual(
      flat.map((j) => [j.item.kind, j.afterIndexes, j.onParentFailure]),
      [
        ["a1", [], undefined],
        ["a", [0], undefined],
        ["b", [], undefined],
        ["root", [1, 2], "run"],
      ],
    );
    assert.deepEqual(flowResult(flat, ["1", "2", "3", "4"]), {
      id: "4",
      children: [
        { id: "2", children: [{ id: "1", children: [] }] },
        { id: "3", children: [] },
      ],
    });
  });

  it("a malformed flow fails with TEND_E_INVALID_JOB_FLOW: a node twice, a cycle, too deep, not an object", () => {
    const shared: FlowNode = { kind: "s" };
    assert.throws(
      () => flattenFlow({ kind: "r", children: [shared, shared] }),
      code("TEND_E_INVALID_JOB_FLOW"),
    );
    const loop: { kind: string; children: unknown[] } = { kind: "loop", children: [] };
    loop.children.push(loop);
    assert.throws(() => flattenFlow(loop as FlowNode), code("TEND_E_INVALID_JOB_FLOW"));
    let deep: FlowNode = { kind: "leaf" };
    for (let i = 0; i < 100; i++) deep = { kind: "n", children: [deep] };
    assert.throws(() => flattenFlow(deep), code("TEND_E_INVALID_JOB_FLOW"));
    assert.throws(() => flattenFlow(null as never), code("TEND_E_INVALID_JOB_FLOW"));
    assert.throws(() => flattenFlow({ kind: "r", children: "x" } as never), code("TEND_E_INVALID_JOB_FLOW"));
    assert.throws(() => flattenFlow({ kind: "r", childs: [] } as never), code("TEND_E_UNKNOWN_OPTION"));
    assert.throws(
      () => flattenFlow({ kind: "r", onChildFailure: "maybe", children: [{ kind: "c" }] } as never),
      code("TEND_E_INVALID_JOB_OPTIONS"),
    );
    assert.throws(
      () => flattenFlow({ kind: "r", uniqueKey: "u", children: [{ kind: "c" }] }),
      code("TEND_E_INVALID_JOB_OPTIONS"),
    );
  });

  it("enqueue and cron refuse bad dependency options before reaching the store", async () => {
    const store = {} as Store; // never reached: validation throws first
    const jobs = new Jobs(async () => store, { log: silent });
    await assert.rejects(jobs.enqueue("k", null, { after: ["abc"] }), code("TEND_E_INVALID_JOB_OPTIONS"));
    await assert.rejects(
      jobs.enqueue("k", null, { after: ["1"], uniqueKey: "u" }),
      code("TEND_E_INVALID_JOB_OPTIONS"),
    );
    await assert.rejects(
      jobs.enqueueFlow({ kind: "r", children: [null as never] }),
      code("TEND_E_INVALID_JOB_FLOW"),
    );
    assert.throws(
      () => jobs.cron("* * * * *", "k", null, { after: ["1"] } as never),
      code("TEND_E_UNKNOWN_OPTION"),
    );
  });
});
