import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { type Store } from "../../src/store/index.ts";
import { insertOne } from "../conformance/job-store/helpers.ts";
import { sqliteStoreForSuite, tend } from "./helpers.ts";

describe("tend queues limit and tend jobs show limits (real processes running bin/tend.js)", () => {
  const suite = sqliteStoreForSuite("tend-cli-queues-");
  let url: string;
  let store: Store;
  before(() => {
    ({ url, store } = suite);
  });

  it("sets, lists and clears a queue's limits; the claim holds them", async () => {
    for (let i = 0; i < 4; i++) await insertOne(store, { queue: "emails" });
    const set = await tend("queues", "limit", "emails", "--concurrency", "2", "--rate", "600/1m", "-d", url);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), "queue emails: concurrency 2, rate 600/1m");
    const listed = await tend("queues", "list", "-d", url);
    assert.match(listed.stdout, /^emails\s+running\s+4\s+0\s+0\s+0\s+\S+\s+2\s+600\/1m\s*$/m);
    const claimed = await store.jobs.claim({ queue: "emails", limit: 10, workerId: "w", leaseMs: 60_000 });
    assert.equal(claimed.length, 2, "the stored limit holds for a claim in another process");
    const rateOnly = await tend("queues", "limit", "emails", "--concurrency", "none", "--json", "-d", url);
    assert.equal(rateOnly.code, 0, rateOnly.stderr);
    const parsed = JSON.parse(rateOnly.stdout) as { concurrencyLimit: unknown; rateLimit: unknown };
    assert.deepEqual([parsed.concurrencyLimit, parsed.rateLimit], [null, { limit: 600, periodMs: 60_000 }]);
    const cleared = await tend("queues", "limit", "emails", "--clear", "-d", url);
    assert.equal(cleared.stdout.trim(), "queue emails: concurrency -, rate -");
  });

  it("refuses bad limits with TEND_E_INVALID_QUEUE_LIMITS, naming the value", async () => {
    for (const [args, named] of [
      [["--concurrency", "0"], "0"],
      [["--concurrency", "-3"], "-3"],
      [["--concurrency", "many"], "many"],
      [["--rate", "10"], "10"],
      [["--rate", "0/1s"], "0"],
      [["--rate", "5/soon"], "soon"],
      [[], "--concurrency"],
      [["--clear", "--concurrency", "3"], "--clear"],
    ] as const) {
      const r = await tend("queues", "limit", "emails", ...args, "-d", url);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /\[TEND_E_INVALID_QUEUE_LIMITS\]/, args.join(" "));
      assert.ok(r.stderr.includes(named), `${args.join(" ")}: ${r.stderr}`);
    }
  });

  it("a job or cron schedule that is not there is reported in the usual `tend: ... [TEND_E_...]` form", async () => {
    const job = await tend("jobs", "show", "999999", "-d", url);
    assert.equal(job.code, 1);
    assert.match(job.stderr, /^tend: no job with id 999999 \[TEND_E_JOB_NOT_FOUND\]$/m);
    const retry = await tend("jobs", "retry", "999999", "-d", url);
    assert.match(retry.stderr, /\[TEND_E_JOB_NOT_FOUND\]/);
  });

  it("tend jobs retry of a job that has not ended says so and exits 1", async () => {
    const pending = await insertOne(store, { queue: "retry-pending" });
    const r = await tend("jobs", "retry", pending, "-d", url);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not done: job \d+ is available.*\[TEND_E_ADMIN_CONFLICT\]/);
    assert.equal((await store.jobs.get(pending))?.state, "available");
  });

  it("tend jobs show prints a job's concurrency key, its limit and its rate limit", async () => {
    const keyed = await insertOne(store, {
      queue: "crm",
      concurrencyKey: "tenant:7",
      concurrencyLimit: 2,
      rateLimit: 10,
      ratePeriodMs: 1_000,
    });
    const shown = await tend("jobs", "show", keyed, "-d", url);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^concurrency key tenant:7 \(limit 2\) {2}rate limit 10\/1s$/m);
    const plain = await insertOne(store, { queue: "crm" });
    assert.doesNotMatch((await tend("jobs", "show", plain, "-d", url)).stdout, /concurrency key|rate limit/);
  });
});
