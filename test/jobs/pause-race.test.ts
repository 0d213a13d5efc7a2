/**
 * A queue paused while one of the worker's claims is in flight: the jobs that claim returns go
 * back to the store (attempt not spent), as the jobs it had claimed ahead do, instead of waiting in
 * the paused queue's buffer until it resumes. A real SQLite store; the claim's reply is held back by
 * a wrapper around the real store's method, to put the pause between the claim and its reply.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { Jobs } from "../../src/jobs/index.ts";
import { openStore } from "../../src/store/index.ts";
import { deferred, startJobs } from "../conformance/jobs/helpers.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { waitFor } from "../support/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "tend-pause-race-"));
after(() => rmSync(dir, { recursive: true, force: true }));

it("a claim in flight when its queue is paused gives its jobs back", { timeout: 30_000 }, async (t) => {
  const store = await openStore(`sqlite:${join(dir, "jobs.db")}`);
  t.after(() => store.close());
  const claim = store.jobs.claim.bind(store.jobs);
  const claimHeld = deferred();
  const letGo = deferred();
  let holding = true;
  store.jobs.claim = async (request) => {
    const jobs = await claim(request);
    if (holding && jobs.length > 0) {
      holding = false;
      claimHeld.resolve();
      await letGo.promise;
    }
    return jobs;
  };
  const capture = captureLog();
  const jobs = new Jobs(async () => store, {
    log: capture.log,
    workerId: "w1",
    queues: { q: { concurrency: 5 } },
    pollInterval: "50ms",
  });
  const ran: string[] = [];
  jobs.define("k", (ctx) => void ran.push(ctx.id), { queue: "q" });
  const ids = (await jobs.enqueueMany([1, 2, 3].map((i) => ({ kind: "k", payload: { i } })))).map(
    (r) => r.id,
  );
  const running = await startJobs(jobs);
  t.after(async () => {
    letGo.resolve();
    await running.stop();
  });
  await claimHeld.promise;
  await store.jobs.pauseQueue("q");
  await waitFor(
    () => capture.lines().some((l) => l["msg"] === "queue paused: claiming nothing more from it"),
    {
      message: "the worker to read the pause",
    },
  );
  letGo.resolve();
  await waitFor(
    async () => {
      const rows = await Promise.all(ids.map((id) => store.jobs.get(id)));
      return rows.every((r) => r?.state === "available" && r.attempt === 0);
    },
    { message: "the claimed jobs to be given back, their attempts not spent" },
  );
  assert.deepEqual(ran, [], "no handler ran in the paused queue");
  assert.equal(jobs.counters()?.released, 3);
  await store.jobs.resumeQueue("q");
  await waitFor(() => ran.length === 3, { message: "the jobs to run once the queue resumed" });
});

it(
  "a slow read of the paused flags from before a resume does not pause the queue again",
  { timeout: 30_000 },
  async (t) => {
    const store = await openStore(`sqlite:${join(dir, "reads.db")}`);
    t.after(() => store.close());
    // The worker's reads of the paused flags go to the real store; one read, made while the queue
    // is paused, answers only after a read begun after the resume has answered.
    const listQueues = store.jobs.listQueues.bind(store.jobs);
    const staleRead = deferred();
    const letStaleGo = deferred();
    let holdNextPausedRead = false;
    let resumed = false;
    let readsAfterResume = 0;
    store.jobs.listQueues = async () => {
      const afterResume = resumed;
      const settings = await listQueues();
      if (holdNextPausedRead && settings.some((s) => s.queue === "q" && s.paused)) {
        holdNextPausedRead = false;
        staleRead.resolve();
        await letStaleGo.promise;
      }
      if (afterResume) readsAfterResume++;
      return settings;
    };
    const capture = captureLog();
    // A long poll interval: nothing but the pause and resume notices makes the worker read again.
    const jobs = new Jobs(async () => store, {
      log: capture.log,
      workerId: "w1",
      queues: { q: { concurrency: 5 } },
      pollInterval: "60s",
    });
    const ran: string[] = [];
    jobs.define("k", (ctx) => void ran.push(ctx.id), { queue: "q" });
    const running = await startJobs(jobs);
    t.after(async () => {
      letStaleGo.resolve();
      await running.stop();
    });
    holdNextPausedRead = true;
    await store.jobs.pauseQueue("q");
    await staleRead.promise;
    resumed = true;
    await store.jobs.resumeQueue("q");
    await waitFor(() => readsAfterResume >= 1, { message: "a read of the flags begun after the resume" });
    letStaleGo.resolve();
    await jobs.enqueue("k", { i: 1 }, { queue: "q" });
    await waitFor(() => ran.length === 1, {
      timeoutMs: 10_000,
      message: "the job to run in the resumed queue",
    });
    assert.ok(
      !capture.lines().some((l) => l["msg"] === "queue paused: claiming nothing more from it"),
      "the stale read did not pause the queue",
    );
  },
);
