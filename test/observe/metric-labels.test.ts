import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createApp } from "../../src/app.ts";
import type { ClaimedJob, InsertResult, NewJob, QueueStats, RescuedJob } from "../../src/jobs/index.ts";
import { Manager } from "../../src/lifecycle/manager.ts";
import { createLogger } from "../../src/log/logger.ts";
import { JobMetrics } from "../../src/observe/job-metrics.ts";
import { createRegistry } from "../../src/observe/registry.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Job and queue metric labels stay bounded whatever kinds and queues callers enqueue: a kind this
 * process runs keeps exact series; kinds and queues past the documented budgets (100 kinds, 50
 * queues) are counted under "(other)", nothing lost.
 */

const silent = createLogger({ level: "silent", pretty: false });

/** The samples of `family` in an exposition: their labels and value. */
function samples(text: string, family: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${family}{`)) continue;
    const close = line.lastIndexOf("}");
    const labels: Record<string, string> = {};
    for (const m of line.slice(family.length + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[m[1]!] = m[2]!;
    out.push({ labels, value: Number(line.slice(close + 1).trim()) });
  }
  return out;
}

const distinct = (rows: ReadonlyArray<{ labels: Record<string, string> }>, label: string): Set<string> =>
  new Set(rows.map((r) => r.labels[label]!));

const total = (rows: ReadonlyArray<{ value: number }>): number => rows.reduce((n, r) => n + r.value, 0);

describe("metric labels are bounded", () => {
  it("200 caller-chosen kinds in 200 queues: bounded series, exact ones for the kind this process runs, nothing lost", async (t) => {
    const tmp = await makeTempDir("tend-metric-labels-");
    t.after(() => tmp.cleanup());
    const app = createApp({
      database: `sqlite:${join(tmp.dir, "tend.db")}`,
      log: silent,
      metrics: true,
      jobs: { pollInterval: 50 },
    });
    let done = 0;
    app.job("known", () => void done++);
    const manager = new Manager({ log: silent, shutdownTimeout: "10s" });
    await app.start(manager);
    t.after(() => manager.stop());
    const warnings: Array<Error & { code?: string }> = [];
    const onWarning = (w: Error & { code?: string }) => {
      if (w.code === "TEND_W_METRIC_LABELS_FOLDED") warnings.push(w);
    };
    process.on("warning", onWarning);
    t.after(() => process.off("warning", onWarning));

    for (let i = 0; i < 3; i++) await app.enqueue("known", { i });
    await waitFor(() => done === 3, { message: "three known jobs done" });
    // Kinds and queues of the caller's choosing (a tenant's name, a user's input).
    for (let i = 0; i < 200; i++) await app.enqueue(`user.kind.${i}`, {}, { queue: `tenant-${i}` });
    for (let i = 0; i < 2; i++) await app.enqueue("known", { i });
    // The handler returns before its outcome is written and counted: wait for the count.
    const text = await waitFor(
      async () => {
        const exposition = await app.metrics.metrics();
        return /^tend_job_attempts_finished_total\{queue="default",kind="known",outcome="completed"\} 5$/m.test(
          exposition,
        )
          ? exposition
          : null;
      },
      { message: "five known attempts counted as completed" },
    );
    const enqueued = samples(text, "tend_jobs_enqueued_total");
    // At most 100 kinds and 50 queues by name, plus "(other)" and what this process runs.
    assert.ok(distinct(enqueued, "kind").size <= 102, `kinds: ${distinct(enqueued, "kind").size}`);
    assert.ok(distinct(enqueued, "queue").size <= 52, `queues: ${distinct(enqueued, "queue").size}`);
    assert.ok(enqueued.length <= 102, `enqueued series: ${enqueued.length}`);
    assert.ok(distinct(enqueued, "kind").has("(other)"));
    assert.equal(total(enqueued), 205, "every insert counted");
    const known = (name: string, extra: Record<string, string> = {}) =>
      samples(text, name).filter(
        (s) =>
          s.labels["kind"] === "known" &&
          s.labels["queue"] === "default" &&
          Object.entries(extra).every(([k, v]) => s.labels[k] === v),
      );
    assert.deepEqual(
      known("tend_jobs_enqueued_total").map((s) => s.value),
      [5],
    );
    assert.deepEqual(
      known("tend_job_attempts_started_total").map((s) => s.value),
      [5],
    );
    assert.deepEqual(
      known("tend_job_attempts_finished_total", { outcome: "completed" }).map((s) => s.value),
      [5],
    );

    const queueJobs = samples(text, "tend_queue_jobs").filter((s) => s.labels["state"] === "available");
    assert.ok(
      distinct(queueJobs, "queue").size <= 52,
      `tend_queue_jobs queues: ${distinct(queueJobs, "queue").size}`,
    );
    assert.ok(distinct(queueJobs, "queue").has("(other)"));
    assert.equal(total(queueJobs), 200, "every available job counted, under its queue or (other)");
    const ages = samples(text, "tend_queue_oldest_available_age_seconds");
    assert.ok(ages.length <= 52, `age series: ${ages.length}`);

    await waitFor(() => warnings.length > 0, { message: "a TEND_W_METRIC_LABELS_FOLDED warning" });
    assert.ok(warnings.length <= 2, "one warning per budget at most");
  });

  it("a kind folded at enqueue gets its own label once this process runs it; the maps stay within the budgets", () => {
    const registry = createRegistry({ defaults: false });
    const metrics = new JobMetrics(registry, () => 0);
    const inserted: InsertResult = { id: "1", inserted: true } as InsertResult;
    const job = (kind: string, queue: string) => ({ kind, queue }) as NewJob;
    const claimed = (kind: string, queue: string) => ({ kind, queue, runAt: new Date() }) as ClaimedJob;
    // Fill the kind budget, then a kind this process will run arrives.
    for (let i = 0; i < 150; i++) metrics.enqueued([job(`k${i}`, "q")], [inserted]);
    metrics.enqueued([job("late", "q")], [inserted]);
    const stats = metrics.started(claimed("late", "q"), Date.now());
    metrics.finished(stats, "completed", {}, 0.01);
    metrics.enqueued([job("late", "q")], [inserted]);
    metrics.rescued([{ kind: "late", queue: "q", state: "retryable" } as RescuedJob]);
    return registry.getMetricsAsJSON().then((families) => {
      const family = (name: string) => families.find((f) => f.name === name)!.values;
      const enqueued = family("tend_jobs_enqueued_total");
      const of = (kind: string) => enqueued.find((v) => v.labels["kind"] === kind)?.value;
      assert.equal(of("k0"), 1);
      assert.equal(of("k99"), 1);
      assert.equal(of("k100"), undefined, "past the budget");
      assert.equal(of("(other)"), 51, "50 past the budget and the first 'late'");
      assert.equal(of("late"), 1, "the enqueue after it ran");
      assert.equal(
        family("tend_job_attempts_started_total").find((v) => v.labels["kind"] === "late")?.value,
        1,
      );
      assert.equal(
        family("tend_jobs_rescued_total").find(
          (v) => v.labels["kind"] === "late" && v.labels["outcome"] === "retryable",
        )?.value,
        1,
      );
      assert.ok(enqueued.length <= 102);
    });
  });

  it("a kind this process defines keeps its own label from its first enqueue, past the budget", async () => {
    const registry = createRegistry({ defaults: false });
    const metrics = new JobMetrics(
      registry,
      () => 0,
      (kind) => kind === "mine",
    );
    const inserted: InsertResult = { id: "1", inserted: true } as InsertResult;
    const job = (kind: string) => ({ kind, queue: "q" }) as NewJob;
    for (let i = 0; i < 150; i++) metrics.enqueued([job(`k${i}`)], [inserted]);
    metrics.enqueued([job("mine")], [inserted]);
    const enqueued = (await registry.getMetricsAsJSON()).find(
      (f) => f.name === "tend_jobs_enqueued_total",
    )!.values;
    assert.equal(enqueued.find((v) => v.labels["kind"] === "mine")?.value, 1);
    assert.equal(enqueued.find((v) => v.labels["kind"] === "(other)")?.value, 50);
  });

  it("past 500 pairs of kinds it does not run, new pairs count under (other)", async () => {
    const registry = createRegistry({ defaults: false });
    const metrics = new JobMetrics(registry, () => 0);
    const inserted = { id: "1", inserted: true } as InsertResult;
    // 40 queues x 40 kinds: each name within its budget, 1,600 pairs.
    for (let q = 0; q < 40; q++)
      for (let k = 0; k < 40; k++)
        metrics.enqueued([{ kind: `k${k}`, queue: `q${q}` } as NewJob], [inserted]);
    const enqueued = (await registry.getMetricsAsJSON()).find(
      (f) => f.name === "tend_jobs_enqueued_total",
    )!.values;
    assert.ok(enqueued.length <= 501, `series: ${enqueued.length}`);
    assert.equal(
      enqueued.reduce((n, v) => n + v.value, 0),
      1600,
    );
    assert.equal(
      enqueued.find((v) => v.labels["queue"] === "(other)" && v.labels["kind"] === "(other)")?.value,
      1100,
    );
  });
});

describe("foldQueueStats", () => {
  it("sums the queues that share a label, keeps the oldest age", async () => {
    const { foldQueueStats } = await import("../../src/observe/queue-fold.ts");
    const s = (queue: string, n: number, age: number): QueueStats => ({
      queue,
      available: n,
      running: n,
      scheduled: n,
      retryable: n,
      waiting: n,
      enqueuedPerSec: n,
      completedPerSec: n,
      oldestAvailableAgeMs: age,
    });
    const folded = foldQueueStats([s("a", 1, 10), s("b", 2, 30), s("c", 4, 20)], (q) =>
      q === "a" ? q : "(other)",
    );
    assert.deepEqual(folded, [s("a", 1, 10), s("(other)", 6, 30)]);
  });
});
