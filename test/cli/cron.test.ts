import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { DatabaseSync } from "node:sqlite";
import { type Store } from "../../src/store/index.ts";
import { claimOne, insertOne } from "../conformance/job-store/helpers.ts";
import { sqliteStoreForSuite, tend } from "./helpers.ts";

describe("tend cron and tend jobs show progress (real processes running bin/tend.js)", () => {
  const suite = sqliteStoreForSuite("tend-cli-cron-");
  let url: string;
  let store: Store;
  before(() => {
    ({ url, store } = suite);
  });

  it("lists registered schedules with their next runs, pauses and resumes them", async () => {
    await store.jobs.registerCron([
      {
        name: "nightly",
        kind: "records.purge",
        expression: "0 3 * * *",
        timezone: "Europe/Berlin",
        overlap: "skip",
      },
    ]);
    const tick = new Date(Date.UTC(2026, 0, 1, 2));
    await store.jobs.cronTick(
      "nightly",
      tick,
      {
        kind: "records.purge",
        queue: "default",
        payload: "{}",
        priority: 0,
        runAt: tick,
        maxAttempts: 3,
        uniqueKey: null,
        batchId: null,
        batchIndex: null,
      },
      "skip",
    );
    const listed = await tend("cron", "list", "--json", "-n", "2", "-d", url);
    assert.equal(listed.code, 0, listed.stderr);
    const [entry] = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    assert.equal(entry?.["name"], "nightly");
    assert.equal(entry["paused"], false);
    assert.equal(entry["lastTick"], tick.toISOString());
    assert.equal(entry["lastJobState"], "available");
    const runs = entry["nextRuns"] as string[];
    assert.equal(runs.length, 2);
    // 03:00 in Berlin is 01:00 or 02:00 UTC.
    assert.ok(
      runs.every((r) => /T0[12]:00:00\.000Z$/.test(r)),
      runs.join(),
    );

    const human = await tend("cron", "list", "-d", url);
    assert.match(human.stdout, /nightly\s+records\.purge\s+0 3 \* \* \*\s+Europe\/Berlin\s+skip\s+active/);

    const paused = await tend("cron", "pause", "nightly", "-d", url);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /nightly is now paused/);
    assert.equal((await store.jobs.listCron())[0]?.paused, true);
    assert.match((await tend("cron", "list", "-d", url)).stdout, /paused/);
    assert.equal((await tend("cron", "resume", "nightly", "-d", url)).code, 0);
    assert.equal((await store.jobs.listCron())[0]?.paused, false);

    const unknown = await tend("cron", "pause", "nope", "-d", url);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no cron schedule named "nope"/);
  });

  it("tend jobs show prints a running job's progress", async () => {
    const id = await insertOne(store, { queue: "cli-progress" });
    const lease = await claimOne(store, { queue: "cli-progress" });
    assert.equal(lease.id, id);
    await store.jobs.progress([{ ...lease, progress: JSON.stringify({ done: 3, of: 10 }) }]);
    const shown = await tend("jobs", "show", id, "-d", url);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^progress \{"done":3,"of":10\}$/m);
  });

  it("tend cron list marks schedules unseen for a while as stale; tend cron prune deletes them", async () => {
    await store.jobs.registerCron([
      { name: "gone", kind: "old.kind", expression: "0 4 * * *", timezone: null, overlap: "skip" },
      { name: "here", kind: "new.kind", expression: "0 5 * * *", timezone: null, overlap: "skip" },
    ]);
    // As if the process scheduling "gone" stopped two hours ago (the code no longer has it).
    const file = new DatabaseSync(join(suite.dir, "tend.db"));
    try {
      file
        .prepare('UPDATE "tend_cron_entries" SET last_seen_at = ? WHERE name = ?')
        .run(Date.now() - 2 * 3600 * 1000, "gone");
    } finally {
      file.close();
    }
    const listed = await tend("cron", "list", "-d", url);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^gone\s.*active \(stale\)/m);
    assert.match(listed.stdout, /^here\s.*active\s/m);
    assert.doesNotMatch(listed.stdout, /^here\s.*stale/m);
    const json = JSON.parse((await tend("cron", "list", "--json", "-d", url)).stdout) as Array<{
      name: string;
      stale: boolean;
    }>;
    assert.equal(json.find((e) => e.name === "gone")?.stale, true);
    const bad = await tend("cron", "prune", "--older-than", "30s", "-d", url);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /TEND_E_INVALID_DURATION/);
    // tend jobs prune's bound: a duration past a hundred years names the flag and the bound.
    const huge = await tend("jobs", "prune", "--older-than", "99999999999999999d", "-d", url);
    assert.equal(huge.code, 1);
    assert.match(huge.stderr, /TEND_E_INVALID_DURATION/);
    assert.match(huge.stderr, /--older-than/);
    const pruned = await tend("cron", "prune", "--older-than", "1h", "-d", url);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /^pruned 1 cron schedule\(s\) unseen since .*: gone$/m);
    const names = (await store.jobs.listCron()).map((e) => e.name);
    assert.ok(names.includes("here") && !names.includes("gone"), names.join(","));
  });
});
