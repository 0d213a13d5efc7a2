import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { createApp } from "../../../src/app.ts";
import { Manager } from "../../../src/lifecycle/manager.ts";
import type { ErrorContext } from "../../../src/observe/index.ts";
import { type Backend, createBackend } from "../../support/backends.ts";
import { makeTempDir } from "../../support/tmp.ts";
import { waitFor } from "../../support/wait.ts";
import { captureLog } from "../../lifecycle/log-capture.ts";
import { registerInMemorySdk } from "../../observe/fixtures/sdk.ts";

/** The value of one sample of a Prometheus exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/**
 * The jobs part observed on one driver: per-process metrics on `app.metrics`, the error hook
 * and diagnostics channels, for jobs that complete, fail and retry, and are discarded.
 */
export function describeObservedJobs(driver: "sqlite" | "postgres"): void {
  describe(`observed jobs on ${driver}`, () => {
    let backend: Backend | null;

    before(async () => {
      backend = await createBackend(driver);
    });
    after(async () => {
      await backend?.cleanup();
    });

    it("counts enqueues and attempts by queue, kind and outcome, times them, and reports failures to onError and the channels", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const capture = captureLog();
      const reported: Array<{ error: unknown; context: ErrorContext }> = [];
      const app = createApp({
        database: backend.url,
        log: capture.log,
        metrics: true,
        jobs: { pollInterval: 50 },
        onError: (error, context) => void reported.push({ error, context }),
      });
      // A throwing hook is logged and changes nothing.
      app.onError(() => {
        throw new Error("the hook itself fails");
      });
      const ended: Array<Record<string, unknown>> = [];
      const onEnd = (message: unknown): void => void ended.push(message as Record<string, unknown>);
      subscribe("tend:job:end", onEnd);
      t.after(() => unsubscribe("tend:job:end", onEnd));

      let flaky = 0;
      app.job("obs.ok", () => {});
      app.job(
        "obs.flaky",
        () => {
          if (++flaky === 1) throw new Error("first attempt fails");
        },
        { backoff: () => 1 },
      );
      app.job(
        "obs.doomed",
        () => {
          throw new TypeError("never works");
        },
        { maxAttempts: 1, queue: "doomed" },
      );
      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      t.after(() => manager.stop());
      await app.enqueue("obs.ok", {});
      await app.enqueue("obs.ok", {});
      const flakyJob = await app.enqueue("obs.flaky", {});
      const doomed = await app.enqueue("obs.doomed", {});
      await waitFor(async () => (await app.jobs.get(flakyJob.id))?.state === "completed", {
        message: "the flaky job to complete on its retry",
        timeoutMs: 20_000,
      });
      await waitFor(async () => (await app.jobs.get(doomed.id))?.state === "discarded", {
        message: "the doomed job to be discarded",
      });
      await waitFor(() => ended.length >= 5, { message: "five attempts ended on tend:job:end" });

      const text = await app.metrics.metrics();
      const s = (series: string): number | undefined => sample(text, series);
      assert.equal(s('tend_jobs_enqueued_total{queue="default",kind="obs.ok"}'), 2);
      assert.equal(s('tend_jobs_enqueued_total{queue="doomed",kind="obs.doomed"}'), 1);
      assert.equal(s('tend_job_attempts_started_total{queue="default",kind="obs.flaky"}'), 2);
      assert.equal(
        s('tend_job_attempts_finished_total{queue="default",kind="obs.ok",outcome="completed"}'),
        2,
      );
      assert.equal(
        s('tend_job_attempts_finished_total{queue="default",kind="obs.flaky",outcome="failed"}'),
        1,
      );
      assert.equal(
        s('tend_job_attempts_finished_total{queue="default",kind="obs.flaky",outcome="completed"}'),
        1,
      );
      assert.equal(
        s('tend_job_attempts_finished_total{queue="doomed",kind="obs.doomed",outcome="discarded"}'),
        1,
      );
      assert.equal(s('tend_job_attempt_duration_seconds_count{queue="default",kind="obs.ok"}'), 2);
      assert.equal(s('tend_job_schedule_to_start_seconds_count{queue="default",kind="obs.flaky"}'), 2);
      assert.equal(s("tend_jobs_in_flight"), 0);
      assert.doesNotMatch(text, /jobId|job_id/, "no job id in any label");

      const contexts = reported.map((r) => r.context);
      assert.deepEqual(contexts.map((c) => [c.event, c.kind, c.attempt]).sort(), [
        ["job.discarded", "obs.doomed", 1],
        ["job.failed", "obs.flaky", 1],
      ]);
      const discarded = reported.find((r) => r.context.event === "job.discarded")!;
      assert.ok(discarded.error instanceof TypeError);
      assert.equal(discarded.context.jobId, doomed.id);
      assert.equal(discarded.context.queue, "doomed");
      assert.equal(discarded.context.part, "jobs");
      assert.ok(
        capture
          .lines()
          .some((l) => l["msg"] === "an onError hook threw; the error it was given is in context"),
      );
      assert.deepEqual(ended.map((m) => m["outcome"]).sort(), [
        "completed",
        "completed",
        "completed",
        "discarded",
        "failed",
      ]);
    });

    it("exposes converger and inbox metrics and reports converger errors, inbox failures and task failures to onError", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const capture = captureLog();
      const tmp = await makeTempDir("tend-observe-");
      t.after(() => tmp.cleanup());
      const reported: Array<{ error: unknown; context: ErrorContext }> = [];
      const app = createApp({
        database: backend.url,
        log: capture.log,
        metrics: true,
        onError: (error, context) => void reported.push({ error, context }),
      });
      const converged: string[] = [];
      app.converger({
        name: "obs-keys",
        every: "1h",
        find: () => ["good", "bad"],
        converge: async (key) => {
          if (key === "bad") throw new Error("cannot converge bad");
          converged.push(key);
          return { changed: converged.length === 1 ? { fixed: key } : null };
        },
      });
      // The folder exists before the app starts (as a producer's would): the writes below do not
      // race the inbox task creating it.
      await mkdir(join(tmp.dir, "inbox"), { recursive: true });
      app.inbox({
        dir: join(tmp.dir, "inbox"),
        settle: 0,
        retries: 0,
        process: async (file) => {
          if (file.name.startsWith("bad")) throw new Error("bad file");
        },
      });
      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      await writeFile(join(tmp.dir, "inbox", "good.txt"), "ok");
      await writeFile(join(tmp.dir, "inbox", "bad.txt"), "no");
      await waitFor(
        () =>
          reported.some((r) => r.context.event === "converger.error") &&
          reported.some((r) => r.context.event === "inbox.failed") &&
          app.getConverger("obs-keys")?.metrics().changes === 1,
        { message: "a converger error, an inbox failure and a converged key" },
      );
      const text = await app.metrics.metrics();
      await manager.stop().catch(() => {});
      const s = (series: string): number | undefined => sample(text, series);
      assert.ok(s('tend_converger_sweeps_total{converger="obs-keys"}')! >= 1);
      assert.equal(s('tend_converger_leader{converger="obs-keys"}'), 1);
      assert.ok(s('tend_converger_errors_total{converger="obs-keys"}')! >= 1);
      assert.equal(s('tend_converger_inconsistencies_total{converger="obs-keys"}'), 1);
      assert.ok(s('tend_converger_last_sweep_age_seconds{converger="obs-keys"}')! >= 0);
      const inboxName = text.match(/tend_inbox_files_total\{inbox="([^"]+)",outcome="failed"\}/)?.[1];
      assert.ok(inboxName, "an inbox_files_total series for the failed file");
      assert.equal(s(`tend_inbox_files_total{inbox="${inboxName}",outcome="failed"}`), 1);
      assert.equal(s(`tend_inbox_backlog{inbox="${inboxName}"}`), 0);
      assert.match(text, /^tend_inbox_processing_seconds_count\{inbox="[^"]+",outcome="failed"\} 1$/m);

      const byEvent = (event: string) =>
        reported.filter((r) => r.context.event === event).map((r) => r.context);
      const convergeError = byEvent("converger.error")[0]!;
      assert.deepEqual(convergeError, {
        part: "converge",
        event: "converger.error",
        converger: "obs-keys",
        key: "bad",
      });
      const inboxFailure = byEvent("inbox.failed")[0]!;
      assert.equal(inboxFailure.part, "inbox");
      assert.equal(inboxFailure.file, "bad.txt");
    });

    it("traces converger sweeps and key runs and inbox files, and publishes the converger channels", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const sdk = registerInMemorySdk();
      t.after(() => sdk.shutdown());
      const capture = captureLog();
      const tmp = await makeTempDir("tend-observe-");
      t.after(() => tmp.cleanup());
      const messages: Array<{ channel: string; message: Record<string, unknown> }> = [];
      for (const name of ["sweep", "start", "end", "error", "inconsistency"]) {
        const channel = `tend:converger:${name}`;
        const listener = (message: unknown): void =>
          void messages.push({ channel, message: message as Record<string, unknown> });
        subscribe(channel, listener);
        t.after(() => unsubscribe(channel, listener));
      }
      const of = (name: string) =>
        messages.filter((m) => m.channel === `tend:converger:${name}`).map((m) => m.message);
      const files: Array<Record<string, unknown>> = [];
      const onFile = (message: unknown): void => void files.push(message as Record<string, unknown>);
      subscribe("tend:inbox:file", onFile);
      t.after(() => unsubscribe("tend:inbox:file", onFile));

      const app = createApp({ database: backend.url, log: capture.log });
      app.converger({
        name: "traced",
        every: "1h",
        find: () => ["good", "bad", "same"],
        converge: (key) =>
          trace.getTracer("test").startActiveSpan(`inner ${key}`, (inner) => {
            inner.end();
            if (key === "bad") throw new TypeError("cannot converge bad");
            return { changed: key === "good" ? { fixed: key } : null };
          }),
      });
      await mkdir(join(tmp.dir, "inbox"), { recursive: true });
      app.inbox({
        dir: join(tmp.dir, "inbox"),
        name: "traced-inbox",
        settle: 0,
        retries: 1,
        retryDelay: 1,
        process: (file) =>
          trace.getTracer("test").startActiveSpan(`inner ${file.name}`, (inner) => {
            inner.end();
            if (file.name.startsWith("bad")) throw new Error("bad file");
          }),
      });
      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      t.after(() => manager.stop().catch(() => {}));
      await writeFile(join(tmp.dir, "inbox", "good.txt"), "ok");
      await writeFile(join(tmp.dir, "inbox", "bad.txt"), "no");
      await waitFor(
        () =>
          new Set(of("end").map((m) => m["key"])).size === 3 &&
          of("sweep").length >= 1 &&
          files.filter((f) => f["outcome"] !== "retried").length === 2,
        { message: "three keys converged, a sweep and two inbox files ended" },
      );
      await manager.stop();
      const spans = sdk.spans();

      // Channels.
      assert.deepEqual(of("sweep")[0]!["converger"], "traced");
      assert.equal(of("sweep")[0]!["keys"], 3);
      assert.equal(of("sweep")[0]!["error"], null);
      assert.deepEqual(
        of("start")
          .filter((m) => m["failures"] === 0)
          .map((m) => m["key"])
          .sort(),
        ["bad", "good", "same"],
      );
      const firstEnd = (key: string) => of("end").find((m) => m["key"] === key)!;
      assert.equal(firstEnd("good")["outcome"], "changed");
      assert.equal(firstEnd("same")["outcome"], "unchanged");
      assert.equal(firstEnd("bad")["outcome"], "error");
      assert.ok(firstEnd("bad")["error"] instanceof TypeError);
      assert.equal(typeof firstEnd("good")["durationMs"], "number");
      assert.deepEqual(of("inconsistency"), [
        { converger: "traced", key: "good", changes: { fixed: "good" } },
      ]);
      const error = of("error")[0]!;
      assert.equal(error["converger"], "traced");
      assert.equal(error["key"], "bad");
      assert.ok(error["error"] instanceof TypeError);

      // Converger spans.
      const sweep = spans.find((s) => s.name === "sweep traced");
      assert.ok(sweep, JSON.stringify(spans.map((s) => s.name)));
      assert.equal(sweep.attributes["tend.converger.name"], "traced");
      assert.equal(sweep.attributes["tend.converger.keys"], 3);
      assert.equal(sweep.parentSpanId, null, "a sweep starts its own trace");
      const runs = spans.filter((s) => s.name === "converge traced");
      const run = (key: string) => runs.find((s) => s.attributes["tend.converger.key"] === key)!;
      for (const key of ["good", "bad", "same"]) {
        assert.ok(run(key), `a converge span for ${key}`);
        assert.equal(run(key).attributes["tend.converger.name"], "traced");
        assert.equal(run(key).parentSpanId, null);
        const inner = spans.find((s) => s.name === `inner ${key}`);
        assert.equal(inner?.parentSpanId, run(key).spanId, "converge's own span is a child of the run's");
      }
      // Each key's first run is linked to the sweep that found it; a retry (a backoff) is not.
      for (const key of ["good", "bad", "same"]) {
        const first = runs.find(
          (s) => s.attributes["tend.converger.key"] === key && s.attributes["tend.converger.failures"] === 0,
        );
        assert.deepEqual(first?.links, [{ traceId: sweep.traceId, spanId: sweep.spanId }], key);
      }
      for (const retry of runs.filter((s) => s.attributes["tend.converger.failures"] !== 0))
        assert.deepEqual(retry.links, [], "a retry is not the sweep's doing");
      assert.equal(run("good").attributes["tend.converger.outcome"], "changed");
      assert.equal(run("good").status, SpanStatusCode.UNSET);
      assert.equal(run("same").attributes["tend.converger.outcome"], "unchanged");
      assert.equal(run("bad").attributes["tend.converger.outcome"], "error");
      assert.equal(run("bad").status, SpanStatusCode.ERROR);
      assert.equal(run("bad").attributes["error.type"], "TypeError");

      // Inbox spans: one per file, its attempts inside it.
      const inboxSpans = spans.filter((s) => s.name === "inbox traced-inbox");
      assert.equal(inboxSpans.length, 2, JSON.stringify(spans.map((s) => s.name)));
      const fileSpan = (file: string) => inboxSpans.find((s) => s.attributes["tend.inbox.file"] === file)!;
      assert.equal(fileSpan("good.txt").attributes["tend.inbox.outcome"], "done");
      assert.equal(fileSpan("good.txt").attributes["tend.inbox.attempts"], 1);
      assert.equal(fileSpan("good.txt").attributes["tend.inbox.name"], "traced-inbox");
      assert.equal(fileSpan("good.txt").status, SpanStatusCode.UNSET);
      assert.equal(fileSpan("bad.txt").attributes["tend.inbox.outcome"], "failed");
      assert.equal(fileSpan("bad.txt").attributes["tend.inbox.attempts"], 2);
      assert.equal(fileSpan("bad.txt").status, SpanStatusCode.ERROR);
      assert.equal(fileSpan("bad.txt").attributes["error.type"], "Error");
      const badInner = spans.filter((s) => s.name === "inner bad.txt");
      assert.equal(badInner.length, 2);
      for (const inner of badInner) assert.equal(inner.parentSpanId, fileSpan("bad.txt").spanId);
    });

    it("reports a failed task to onError", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const capture = captureLog();
      const reported: Array<{ error: unknown; context: ErrorContext }> = [];
      const app = createApp({ database: backend.url, log: capture.log, tracing: false });
      app.onError((error, context) => void reported.push({ error, context }));
      const failure = new Error("the task fails");
      app.task(async function failingTask() {
        throw failure;
      });
      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      await assert.rejects(manager.wait());
      assert.equal(reported.length, 1);
      assert.deepEqual(reported[0]!.context, {
        part: "lifecycle",
        event: "task.failed",
        task: "failingTask",
      });
      assert.equal((reported[0]!.error as Error).cause, failure);
    });
  });
}
