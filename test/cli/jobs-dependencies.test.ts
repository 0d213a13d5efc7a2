import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Jobs } from "../../src/jobs/index.ts";
import { type Store } from "../../src/store/index.ts";
import { silent } from "../conformance/jobs/helpers.ts";
import { sqliteStoreForSuite, tend } from "./helpers.ts";

describe("tend jobs show: a job's parents and dependents (real processes running bin/tend.js)", () => {
  const suite = sqliteStoreForSuite("tend-cli-deps-");
  let url: string;
  let store: Store;
  before(() => {
    ({ url, store } = suite);
  });

  it("prints what a job runs after and what runs after it, with their states; --json carries them", async () => {
    const jobs = new Jobs(async () => store, { log: silent });
    const flow = await jobs.enqueueFlow({
      kind: "report.merge",
      children: [{ kind: "report.part" }, { kind: "report.part", delay: "1h" }],
    });
    const [a, b] = flow.children.map((c) => c.id);
    const root = await tend("jobs", "show", flow.id, "-d", url);
    assert.equal(root.code, 0, root.stderr);
    assert.match(root.stdout, /\[waiting\]/);
    assert.match(
      root.stdout,
      new RegExp(`^runs after ${a} report.part \\[available\\], ${b} report.part \\[scheduled\\]$`, "m"),
    );
    assert.match(root.stdout, /^runs before -$/m);
    const leaf = await tend("jobs", "show", a!, "-d", url, "--json");
    assert.equal(leaf.code, 0, leaf.stderr);
    const parsed = JSON.parse(leaf.stdout) as { dependencies: unknown };
    assert.deepEqual(parsed.dependencies, {
      parents: [],
      dependents: [{ id: flow.id, kind: "report.merge", state: "waiting" }],
    });
    const plain = await jobs.enqueue("plain.job");
    const shown = await tend("jobs", "show", plain.id, "-d", url);
    assert.doesNotMatch(shown.stdout, /runs after/, "a job without dependencies prints as before");
  });
});
