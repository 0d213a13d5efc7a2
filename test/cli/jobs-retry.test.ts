import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { claimOne, insertOne } from "../conformance/job-store/helpers.ts";
import { sqliteStoreForSuite, tend } from "./helpers.ts";

describe("tend jobs retry of a completed job (real processes running bin/tend.js)", () => {
  const suite = sqliteStoreForSuite("tend-cli-retry-");

  it("its help says a completed, discarded or cancelled job runs again, as it does", async () => {
    const help = await tend("jobs", "retry", "--help");
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout.replace(/\s+/g, " "), /a completed, discarded or cancelled job run again/);
    const id = await insertOne(suite.store, { queue: "retry-completed" });
    const lease = await claimOne(suite.store, { queue: "retry-completed" });
    await suite.store.jobs.complete([{ ...lease, result: null }]);
    assert.equal((await suite.store.jobs.get(id))?.state, "completed");
    const r = await tend("jobs", "retry", id, "-d", suite.url);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `job ${id} is now available`);
  });
});
