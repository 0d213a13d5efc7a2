import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TendError } from "../../src/errors/index.ts";
import { Jobs } from "../../src/jobs/jobs.ts";
import { isLockTimeout, outcomeRetryWait, retryableOutcomeError } from "../../src/jobs/outcome-retry.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { waitFor } from "../support/wait.ts";

describe("outcome retry policy (pure)", () => {
  it("waits 0.25 s, then twice as long each time up to 4 s, and gives up past the lease", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => outcomeRetryWait(n, 0, 60_000)),
      [250, 500, 1_000, 2_000, 4_000, 4_000, 4_000],
    );
    assert.equal(outcomeRetryWait(1, 29_700, 30_000), 250);
    assert.equal(outcomeRetryWait(1, 29_800, 30_000), null);
    assert.equal(outcomeRetryWait(5, 27_000, 30_000), null);
  });

  it("retries timeouts and an unreachable store, not a closed store or a refused statement", () => {
    const timeout = new TendError("TEND_E_STORE_TIMEOUT", "lock", {
      details: { timeout: "lock", ms: 10_000 },
    });
    assert.equal(retryableOutcomeError(timeout), true);
    assert.equal(retryableOutcomeError(new TendError("TEND_E_STORE_UNREACHABLE", "down")), true);
    assert.equal(retryableOutcomeError(new TendError("TEND_E_STORE_CLOSED", "closed")), false);
    assert.equal(retryableOutcomeError(new Error("value too long")), false);
    assert.equal(isLockTimeout(timeout), true);
    assert.equal(
      isLockTimeout(
        new TendError("TEND_E_STORE_TIMEOUT", "statement", { details: { timeout: "statement" } }),
      ),
      false,
    );
  });
});

/**
 * A caller's transaction that enqueues a job after a running parent holds the parent's row until
 * it commits; the parent's completion waits for it. On PostgreSQL that wait ends at the lock
 * timeout: the completion must be written again, not left for the rescue to run the job twice.
 */
describe("a completion blocked past the lock timeout by a caller's transaction (PostgreSQL)", () => {
  let backend: Backend | null = null;
  before(async () => {
    backend = await createBackend("postgres");
  });
  after(() => backend?.cleanup());

  it("is written once the transaction commits: the job ran once, on its first attempt", async (t) => {
    if (backend === null) return t.skip("PostgreSQL unavailable");
    const capture = captureLog();
    const store = await backend.open({ timeouts: { lock: "1s" } });
    const jobs = new Jobs(async () => store, { log: capture.log, pollInterval: 100, lease: "8s" });
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    jobs.define("parent", async () => {
      runs++;
      await gate;
      return "p";
    });
    jobs.define("child", () => "c");
    const controller = new AbortController();
    const running = (await jobs.tasks()).map((task) => task.run(controller.signal));
    t.after(async () => {
      release();
      controller.abort();
      await Promise.allSettled(running);
    });

    const parent = await jobs.enqueue("parent", {});
    await waitFor(async () => (await jobs.get(parent.id))?.state === "running", {
      message: "parent running",
    });
    let child = "";
    const failedOnce = (): boolean =>
      capture
        .lines()
        .some((l) => typeof l["msg"] === "string" && l["msg"].startsWith("recording a job's outcome failed"));
    await backend.inCallerTransaction(async (tx) => {
      child = (await jobs.enqueue("child", {}, { after: [parent.id], tx })).id;
      release();
      // Held until the parent's completion has waited past the lock timeout (1 s) and failed once.
      await waitFor(failedOnce, { timeoutMs: 15_000, message: "the completion to fail on the lock" });
    }, "commit");

    const done = await waitFor(
      async () => {
        const job = await jobs.get(parent.id);
        return job?.state === "completed" ? job : null;
      },
      { timeoutMs: 20_000, message: "parent completed" },
    );
    assert.equal(runs, 1, "the parent's handler ran once");
    assert.equal(done.attempt, 1);
    assert.deepEqual(done.errors, []);
    await waitFor(async () => (await jobs.get(child))?.state === "completed", {
      timeoutMs: 10_000,
      message: "child completed",
    });
    assert.ok(
      capture
        .lines()
        .some((l) => l["msg"] === "recording a job's outcome failed; writing it again while its lease holds"),
    );
  });
});
