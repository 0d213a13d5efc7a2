/**
 * A job whose running attempt lost its lease and that the same worker claimed again: the two
 * attempts are told apart (the old one is aborted, the new one keeps its lease renewed and its
 * place in the running map), and a heartbeat reply about the old lease does not touch the new.
 * Real SQLite stores in temp folders; the heartbeat of the second test is held back by a wrapper
 * around the real store's method, to put its reply after the job was claimed again.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Jobs } from "../../src/jobs/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { deferred, startJobs } from "../conformance/jobs/helpers.ts";
import { waitFor } from "../support/wait.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function sqliteStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), "tend-reclaimed-"));
  dirs.push(dir);
  return await openStore(`sqlite:${join(dir, "jobs.db")}`);
}

const log = createLogger({ level: "silent", pretty: false });

describe("an attempt whose job was claimed again by the same worker", () => {
  it(
    "is aborted; the new attempt keeps its lease renewed and is counted in flight",
    { timeout: 30_000 },
    async (t) => {
      const store = await sqliteStore();
      t.after(() => store.close());
      const jobs = new Jobs(async () => store, { log, workerId: "w1", lease: "3s", pollInterval: "50ms" });
      const gates: Array<() => void> = [];
      const signals: AbortSignal[] = [];
      jobs.define(
        "k",
        async (ctx) => {
          signals.push(ctx.signal);
          // Ignores its signal: it returns when the test lets it.
          await new Promise<void>((resolve) => gates.push(resolve));
          return { attempt: ctx.attempt };
        },
        { maxAttempts: 10 },
      );
      const { id } = await jobs.enqueue("k", {});
      const running = await startJobs(jobs);
      t.after(async () => {
        for (const g of gates) g();
        await running.stop();
      });
      await waitFor(() => gates.length === 1, { message: "attempt 1 to start" });
      // Its lease taken away (as a supervisor's rescue of a worker it judged dead would): the job is
      // runnable again at once, and this worker claims it again.
      await store.jobs.rescueWorker("w1", "test: lease taken away");
      await waitFor(() => gates.length === 2, { message: "attempt 2 to start in the same worker" });
      assert.equal(signals[0]!.aborted, true, "the old attempt is aborted");
      assert.equal(signals[1]!.aborted, false);
      // The old attempt returns: its write is refused, and it must not take the new attempt's place.
      gates[0]!();
      const claimedUntil = (await store.jobs.get(id))!.leaseExpiresAt!.getTime();
      await waitFor(async () => (await store.jobs.get(id))!.leaseExpiresAt!.getTime() > claimedUntil, {
        message: "the new attempt's lease to be renewed by a heartbeat",
      });
      assert.equal(jobs.inFlight(), 1, "the new attempt is in flight");
      gates[1]!();
      const done = await waitFor(async () => {
        const row = await store.jobs.get(id);
        return row?.state === "completed" ? row : null;
      });
      assert.equal(done.attempt, 2);
      assert.deepEqual(done.result, { attempt: 2 });
      assert.equal(jobs.counters()?.lostLeases, 1, "one lost lease, counted once");
    },
  );

  it("is not aborted by a heartbeat reply about the job's previous lease", { timeout: 30_000 }, async (t) => {
    const store = await sqliteStore();
    t.after(() => store.close());
    // The first heartbeat that names the first attempt is held until the job was claimed again.
    const heartbeat = store.jobs.heartbeat.bind(store.jobs);
    const reclaimed = deferred();
    const heartbeatSent = deferred();
    let held = true;
    store.jobs.heartbeat = async (refs, leaseMs) => {
      if (held) {
        held = false;
        heartbeatSent.resolve();
        await reclaimed.promise;
      }
      return await heartbeat(refs, leaseMs);
    };
    const jobs = new Jobs(async () => store, { log, workerId: "w1", lease: "3s", pollInterval: "50ms" });
    const started: number[] = [];
    const attempt2 = deferred<AbortSignal>();
    const finish = deferred();
    jobs.define(
      "k",
      async (ctx) => {
        started.push(ctx.attempt);
        if (started.length === 1) {
          // Snoozes (its attempt not spent) once a heartbeat naming this lease is in flight.
          await heartbeatSent.promise;
          return ctx.snooze(0);
        }
        attempt2.resolve(ctx.signal);
        await finish.promise;
        return "done";
      },
      { maxAttempts: 10 },
    );
    const { id } = await jobs.enqueue("k", {});
    const running = await startJobs(jobs);
    t.after(async () => {
      reclaimed.resolve();
      finish.resolve();
      await running.stop();
    });
    const signal = await attempt2.promise;
    // The held reply (the first lease: not held any more) now reaches the worker.
    reclaimed.resolve();
    const claimedUntil = (await store.jobs.get(id))!.leaseExpiresAt!.getTime();
    await waitFor(async () => (await store.jobs.get(id))!.leaseExpiresAt!.getTime() > claimedUntil, {
      message: "the new attempt's lease to be renewed by a later heartbeat",
    });
    assert.equal(signal.aborted, false, "the new attempt was not aborted");
    finish.resolve();
    const done = await waitFor(async () => {
      const row = await store.jobs.get(id);
      return row?.state === "completed" ? row : null;
    });
    assert.equal(done.attempt, 1, "a snooze spends no attempt");
    assert.deepEqual(started, [1, 1]);
    assert.equal(jobs.counters()?.lostLeases, 0);
  });
});
