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
