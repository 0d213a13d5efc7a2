import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { it } from "node:test";
import pino from "pino";
import type { Store } from "../../../src/store/index.ts";
import type { Backend } from "../../support/backends.ts";
import { waitFor } from "../../support/wait.ts";
import { deferred, makeJobs, startJobs, uniqueQueue } from "./helpers.ts";

/** A logger that keeps every line it writes (JSON objects). */
function capturingLog(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: "info" }, stream), lines };
}

export function cronOverlap(ctx: () => { backend: Backend; store: Store }): void {
  it("a cron entry every second whose job runs longer does not overlap itself, across two processes' schedulers", async () => {
    const { backend } = ctx();
    const fresh = await backend.fresh();
    const queue = uniqueQueue();
    const release = deferred();
    const captured = capturingLog();
    // Both schedulers log to the capture: whichever wins a tick logs its skip (only one did, and
    // the test timed out when the other won every tick).
    const a = makeJobs(fresh.store, { log: captured.log });
    const b = makeJobs(await fresh.openAnother(), { log: captured.log });
    let running = 0;
    let most = 0;
    for (const jobs of [a, b]) {
      jobs.define(
        "slow.tick",
        async () => {
          most = Math.max(most, ++running);
          await release.promise;
          running--;
        },
        { queue },
      );
      jobs.cron("* * * * * *", "slow.tick", {}, { name: "slow", timezone: "UTC", catchUp: false });
    }
    const workers = [await startJobs(a), await startJobs(b)];
    try {
      const entry = await waitFor(
        async () => {
          const [e] = await a.cronEntries();
          return e !== undefined && e.skipped >= 2 ? e : null;
        },
        { timeoutMs: 20_000, message: "two skipped ticks" },
      );
      assert.equal(entry.name, "slow");
      assert.equal(entry.overlap, "skip");
      assert.equal(entry.expression, "* * * * * *");
      assert.equal((await a.list({ queue })).length, 1, "one job for every tick so far");
      assert.equal(most, 1);
      await waitFor(() => captured.lines.some((l) => /cron tick skipped/.test(String(l["msg"]))), {
        message: "the skip in the log",
      });
      release.resolve();
      await waitFor(async () => (await a.list({ queue })).length >= 2, {
        timeoutMs: 20_000,
        message: "a tick after the job finished enqueues again",
      });
    } finally {
      release.resolve();
      await Promise.all(workers.map((w) => w.stop()));
      await fresh.cleanup();
    }
  });

  it("a paused entry enqueues nothing in any process until resumed; unknown names are refused", async () => {
    const { backend } = ctx();
    const fresh = await backend.fresh();
    const queue = uniqueQueue();
    const a = makeJobs(fresh.store);
    const operator = makeJobs(await fresh.openAnother());
    a.define("fast.tick", () => undefined, { queue });
    a.cron("* * * * * *", "fast.tick", {}, { name: "fast", overlap: "allow", catchUp: false });
    const worker = await startJobs(a);
    try {
      await waitFor(async () => (await operator.cronEntries()).length === 1, { message: "registration" });
      await operator.pauseCron("fast");
      const pausedAt = (await operator.cronEntries())[0]!.lastTick?.getTime() ?? 0;
      // Two ticks recorded after the pause: nothing enqueued for them.
      await waitFor(
        async () => ((await operator.cronEntries())[0]!.lastTick?.getTime() ?? 0) >= pausedAt + 2000,
        {
          timeoutMs: 15_000,
          message: "ticks while paused",
        },
      );
      const whilePaused = (await a.list({ queue })).filter((j) => j.runAt.getTime() > pausedAt + 500);
      assert.deepEqual(whilePaused, []);
      const before = (await a.list({ queue })).length;
      await operator.resumeCron("fast");
      await waitFor(async () => (await a.list({ queue })).length > before, {
        timeoutMs: 15_000,
        message: "ticks after resume",
      });
      await assert.rejects(operator.pauseCron("no-such"), { code: "TEND_E_CRON_NOT_FOUND" });
    } finally {
      await worker.stop();
      await fresh.cleanup();
    }
  });
}
